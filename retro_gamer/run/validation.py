"""Checking a configuration: every problem found at once, each said in one line.

``validate`` takes a configuration as ``{section: {name: value}}`` (what
config.toml holds, or what ``create`` assembled), checks each value against
its row of the settings table (``settings.py``), then the rules that involve
two settings at once, and returns a ``Settings``. All problems are collected
and raised together as one ConfigError, so a user fixes the file in one go;
a misspelt name gets a "did you mean" from the known ones.
"""

import difflib
import math

from retro_gamer.errors import ConfigError
from retro_gamer.run.settings import SECTIONS, SETTINGS, SETTINGS_BY_NAME, Settings


def _type_name(value):
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _range_problem(setting, number):
    """Say how ``number`` falls outside the setting's range, or return None."""
    if isinstance(number, float) and not math.isfinite(number):
        return f"must be a finite number, not {number}"
    low, high = setting.minimum, setting.maximum
    if low is not None:
        if setting.above_minimum and number <= low:
            return f"must be greater than {low}, not {number}"
        if number < low:
            return f"must be at least {low}, not {number}"
    if high is not None and number > high:
        return f"must be at most {high}, not {number}"
    return None


def check_value(setting, value):
    """Return ``(clean_value, problem)``: the plain Python value, or a sentence saying what is wrong."""
    kind = setting.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        return None, f"must be true or false, not {_type_name(value)} ({value!r})"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"must be a whole number, not {_type_name(value)} ({value!r})"
        return int(value), _range_problem(setting, int(value))
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"must be a number, not {_type_name(value)} ({value!r})"
        return float(value), _range_problem(setting, float(value))
    if kind == "str":
        if not isinstance(value, str):
            return None, f"must be a string, not {_type_name(value)} ({value!r})"
        return str(value), None
    if kind in ("str_list", "int_list", "char_list"):
        return _check_list(setting, value)
    if kind == "size_table":
        return _check_size_table(setting, value)
    raise AssertionError(f"unknown kind {kind}")


def _check_list(setting, value):
    if not isinstance(value, list):
        return None, f"must be a list, not {_type_name(value)} ({value!r})"
    items = list(value)
    if setting.kind == "int_list":
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int):
                return None, f"must be a list of whole numbers, but holds {item!r}"
            problem = _range_problem(setting, int(item))
            if problem:
                return None, f"items {problem}"
        return [int(item) for item in items], None
    for item in items:
        if not isinstance(item, str):
            return None, f"must be a list of strings, but holds {item!r}"
    items = [str(item) for item in items]
    if setting.kind == "char_list":
        for item in items:
            if len(item) != 1:
                return None, f"must be a list of single characters, but holds {item!r}"
            if item == " ":
                return None, "must not hold ' ' (a space is how the board shows an empty cell)"
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        return None, f"lists {duplicates} more than once"
    return items, None


def _check_size_table(setting, value):
    if not isinstance(value, dict):
        return None, f"must be a table like {{velocity = 2}}, not {_type_name(value)} ({value!r})"
    sizes = {}
    for key, size in value.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            return None, f"must give each key a positive whole length, but {key} = {size!r}"
        sizes[str(key)] = int(size)
    return sizes, None


def closest_name(name, candidates):
    """The known name closest to a misspelt one, or None."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def validate(values):
    """Check a whole configuration (``{section: {name: value}}``) and return plain values.

    Every problem is collected, then all are raised at once as one
    ConfigError with a line per problem, so a user fixes the file in one go.
    The result is a ``Settings`` (names are unique across sections), with
    defaults filled in for settings that have one.
    """
    problems = []
    clean = {}
    for section, table in values.items():
        if section not in SECTIONS:
            hint = closest_name(section, SECTIONS)
            problems.append(f"[{_printable(section)}]: unknown section" + (f" (did you mean [{hint}]?)" if hint else ""))
            continue
        if not isinstance(table, dict):
            problems.append(f"[{section}] must be a table")
            continue
        for name, value in table.items():
            setting = SETTINGS_BY_NAME.get(name)
            if setting is None or setting.section != section:
                problems.append(_unknown_setting(section, _printable(name)))
                continue
            clean_value, problem = check_value(setting, value)
            if problem:
                problems.append(f"{section}.{name} {problem}")
            else:
                clean[name] = clean_value
    for setting in SETTINGS:
        if setting.name in clean:
            continue
        if setting.default is None:
            if not any(f"{setting.section}.{setting.name} " in p for p in problems):
                problems.append(f"{setting.section}.{setting.name} is missing ({setting.help})")
        else:
            clean[setting.name] = _copy(setting.default)
    if not problems:
        problems.extend(_cross_checks(clean))
    if problems:
        raise ConfigError("\n".join(problems))
    return Settings(**clean)


def _printable(name):
    """A name as it can be shown on one line (a key may hold a line break)."""
    return name if name.isprintable() else repr(name)


def _unknown_setting(section, name):
    hint = closest_name(name, SETTINGS_BY_NAME)
    message = f"{section}.{name} is not a setting retro-gamer knows"
    if hint:
        home = SETTINGS_BY_NAME[hint].section
        message += f" (did you mean {hint}" + ("" if home == section else f" in [{home}]") + "?)"
    return message


def _cross_checks(values):
    """Problems that involve two settings at once."""
    problems = []
    if not values["actions"]:
        problems.append("metadata.actions must list at least one key")
    if len(values["board_size"]) != 2:
        problems.append(f"metadata.board_size must be [width, height], not {values['board_size']}")
    if values["batch_size"] > values["memory_capacity"]:
        problems.append(
            f"training.batch_size ({values['batch_size']}) must not be larger than "
            f"training.memory_capacity ({values['memory_capacity']})")
    if values["epsilon_min"] > values["epsilon"]:
        problems.append(
            f"training.epsilon_min ({values['epsilon_min']}) must not be larger than "
            f"training.epsilon ({values['epsilon']})")
    if not values["board"] and not values["observe_state"]:
        problems.append(
            "preprocessing.board is false and preprocessing.observe_state is empty: "
            "the agent would see nothing (set board = true or list state keys)")
    if values["egocentric"] and not values["egocentric_player"]:
        problems.append(
            "preprocessing.egocentric is true but preprocessing.egocentric_player is empty: "
            "name the agent the window follows")
    unknown_sizes = sorted(set(values["observe_state_sizes"]) - set(values["observe_state"]))
    if unknown_sizes:
        problems.append(
            f"preprocessing.observe_state_sizes names {unknown_sizes}, which "
            "preprocessing.observe_state does not list")
    if values["spatial"] and not values["board"]:
        problems.append("preprocessing.spatial = true needs board = true (a convolution reads the board)")
    if values["spatial"] and not values["conv_channels"]:
        problems.append("model.conv_channels must list at least one layer when spatial = true")
    return problems


def _copy(value):
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
