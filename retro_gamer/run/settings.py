"""Every setting of a training run, in one table, and the config.toml that holds them.

A training run is a folder with a ``config.toml``. Its sections:

``[game]``           where the game comes from (a module name or a file path)
``[metadata]``       what the game is: its actions, reward key, characters, board size
``[preprocessing]``  what the agent sees: the board (whole, or a window around a
                     player), extra values read from the game's state
``[model]``          the shape of the Q-network
``[training]``       how the agent learns: the DQN's hyperparameters

The table ``SETTINGS`` below is the single source of truth. Everything else is
generated from it: the comments written into config.toml (so the file teaches
what each setting does), the ``retro-gamer create`` options, the validation of
a hand-edited file, and the check that a checkpoint still fits the
configuration (a setting with a ``why`` changes the network's shape; changing
it after training has begun means starting fresh).

Values leave this module as plain Python values (``int``, ``float``, ``list``):
tomlkit's own ``Float``/``Integer`` types subclass the Python ones, but
numpy treats them as float64 and would silently turn float32 arrays into
float64 ones.
"""

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

import tomlkit
import tomlkit.exceptions

from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.errors import ConfigError

CONFIG_FILE = "config.toml"
SECTIONS = ("game", "metadata", "preprocessing", "model", "training")


@dataclass(frozen=True)
class Setting:
    """One setting: where it lives, its type and default, and what it does.

    ``kind`` is one of: ``int``, ``float``, ``bool``, ``str``, ``str_list``,
    ``int_list``, ``char_list`` (single characters), ``size_table`` (a table of
    key = positive length). ``minimum``/``maximum`` bound numbers (and list
    items); ``above_minimum`` makes the minimum exclusive. ``why`` is set for
    the settings that change the network's shape: it is shown when a
    checkpoint no longer fits.
    """

    name: str
    section: str
    kind: str
    default: object
    help: str
    why: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False


SETTINGS = (
    # [game]
    Setting("module", "game", "str", None,
            "The game: an importable module name, or the path of a .py file or package folder."),
    Setting("factory", "game", "str", "",
            "Optional 'module:function' that creates the game (default: the module's create_game)."),
    # [metadata]
    Setting("actions", "metadata", "str_list", None,
            "The keys the agent may press; a no-op (pressing nothing) is always added last.",
            why="the actions the agent can take (changes output layer size)"),
    Setting("reward", "metadata", "str", None,
            "The game.state key whose change from turn to turn is the reward.",
            why="the signal the agent was trained to maximise"),
    Setting("board_size", "metadata", "int_list", None,
            "The board's width and height, read from the game.",
            why="the size of the board (changes input layer size)", minimum=1),
    Setting("character_set", "metadata", "char_list", None,
            "The board characters the agent tells apart; any other character reads as empty.",
            why="the set of board characters (changes input layer size)"),
    # [preprocessing]
    Setting("spatial", "preprocessing", "bool", False,
            "true: a convolutional network reads the board as an image; false: an MLP.",
            why="the kind of network (convolutional or MLP)"),
    Setting("board", "preprocessing", "bool", True,
            "Whether the agent sees the board at all (false: only the observe_state values).",
            why="whether the board is part of the input (changes input layer size)"),
    Setting("observe_state", "preprocessing", "str_list", [],
            "game.state keys whose values are appended to what the agent sees.",
            why="the state values the agent sees (changes input layer size)"),
    Setting("observe_state_sizes", "preprocessing", "size_table", {},
            "Optional lengths of list-valued observe_state keys, e.g. {velocity = 2}.",
            why="the lengths of the observed state values (changes input layer size)",
            minimum=1),
    Setting("egocentric", "preprocessing", "bool", False,
            "true: the agent sees a window centred on egocentric_player instead of the whole board.",
            why="whether the agent sees the whole board or a window (changes input layer size)"),
    Setting("egocentric_player", "preprocessing", "str", "",
            "The name of the agent the window is centred on.",
            why="the agent the window follows (changes what each input means)"),
    Setting("egocentric_radius", "preprocessing", "int", 2,
            "The window reaches this many cells from the player each way: (2r+1) x (2r+1).",
            why="the size of the window (changes input layer size)", minimum=1, maximum=50),
    # [model]
    Setting("hidden_sizes", "model", "int_list", [128, 64],
            "The hidden layers of the MLP head, from input to output.",
            why="the hidden layers of the network (changes the network's shape)",
            minimum=1, maximum=4096),
    Setting("conv_channels", "model", "int_list", [16, 32],
            "Channels of the 3x3 convolution layers, used when spatial = true.",
            why="the convolution layers (changes the network's shape)",
            minimum=1, maximum=512),
    # [training]
    Setting("learning_rate", "training", "float", 0.0001,
            "Adam's step size: how far each learning step moves the weights.",
            minimum=0.0, maximum=1.0, above_minimum=True),
    Setting("gamma", "training", "float", 0.99,
            "Discount factor: how much a reward one turn later is worth (0 to 1).",
            minimum=0.0, maximum=1.0),
    Setting("epsilon", "training", "float", 1.0,
            "Exploration rate at the start: the chance of a random action.",
            minimum=0.0, maximum=1.0),
    Setting("epsilon_decay", "training", "float", 0.99,
            "epsilon is multiplied by this after every episode (0.99 reaches 0.05 near episode 300).",
            minimum=0.0, maximum=1.0, above_minimum=True),
    Setting("epsilon_min", "training", "float", 0.05,
            "epsilon never falls below this.",
            minimum=0.0, maximum=1.0),
    Setting("training_episodes", "training", "int", 1000,
            "How many episodes to train in all; safe to increase and train again.",
            minimum=1),
    Setting("max_turns_per_episode", "training", "int", 5000,
            "An episode longer than this is cut short (not counted as the game ending).",
            minimum=1),
    Setting("batch_size", "training", "int", 64,
            "Transitions drawn from the replay memory for each learning step.",
            minimum=1, maximum=4096),
    Setting("memory_capacity", "training", "int", 100000,
            "Transitions the replay memory keeps; the oldest are overwritten.",
            minimum=1, maximum=10_000_000),
    Setting("prioritize_experiences", "training", "bool", False,
            "true: replay surprising transitions more often (prioritized replay, Schaul et al. 2016)."),
    Setting("target_update_freq", "training", "int", 500,
            "Turns between copies of the online network into the target network.",
            minimum=1),
    Setting("train_every", "training", "int", 2,
            "Turns between learning steps.",
            minimum=1),
    Setting("exploration_turns", "training", "int", 1000,
            "Random turns played before learning starts (also used to discover characters).",
            minimum=0),
    Setting("learning_rate_decay", "training", "float", 1.0,
            "The learning rate is multiplied by this after every episode (1.0: constant).",
            minimum=0.0, maximum=1.0, above_minimum=True),
    Setting("double_dqn", "training", "bool", True,
            "true: the online network picks the next action, the target network values it (van Hasselt et al. 2016)."),
    Setting("n_step", "training", "int", 3,
            "Rewards summed before bootstrapping from the target network (Sutton 1988; Hessel et al. 2018).",
            minimum=1, maximum=20),
    Setting("reward_scale", "training", "float", 0.0,
            "Rewards are multiplied by this before learning; 0 = divide by the largest reward change seen so far.",
            minimum=0.0),
    Setting("max_grad_norm", "training", "float", 10.0,
            "Gradients whose overall norm exceeds this are scaled down to it (0 = no clipping).",
            minimum=0.0),
    Setting("seed", "training", "int", 0,
            "Seed of every random generator: the same seed gives the same run.",
            minimum=0, maximum=2**32 - 1),
)

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}
PREPROCESSING_OPTIONS = tuple(s.name for s in SETTINGS if s.section == "preprocessing")
SHAPE_SETTINGS = tuple(s for s in SETTINGS if s.why is not None)

SECTION_COMMENTS = {
    "game": "Where the game comes from.",
    "metadata": "What the game is. Changing any of these means starting fresh (retro-gamer clean).",
    "preprocessing": "What the agent sees. Changing any of these means starting fresh (retro-gamer clean).",
    "model": "The shape of the Q-network. Changing it means starting fresh (retro-gamer clean).",
    "training": "How the agent learns. Safe to change between training sessions.",
}


# --- checking values ---------------------------------------------------------

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
    The result is ``{name: value}`` over all settings (names are unique
    across sections), with defaults filled in for settings that have one.
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
    return clean


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


# --- config.toml on disk ------------------------------------------------------

def config_path(run_dir):
    return Path(run_dir) / CONFIG_FILE


def read_config(run_dir):
    """Read and validate ``RUN_DIR/config.toml``; return ``{name: value}``."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise ConfigError(
            f"{run_dir} does not exist. Create a run with "
            f"'retro-gamer create --game GAME --output {run_dir}'.")
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir} is a file, not a training run folder.")
    document = read_document(run_dir)
    return validate(document.unwrap())


def read_document(run_dir):
    """Parse config.toml with tomlkit (keeping comments); say where it is broken."""
    path = config_path(run_dir)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark some editors add
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: {run_dir} is not a training run. Create one with "
            f"'retro-gamer create --game GAME --output {run_dir}'.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:  # broken syntax, or a key written twice
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def new_document(values):
    """A fresh config.toml document: every setting, each under its one-line comment."""
    document = tomlkit.document()
    document.add(tomlkit.comment("A retro-gamer training run. Each setting is explained above it;"))
    document.add(tomlkit.comment("'retro-gamer create --help' and docs/configuration.md say more."))
    for section in SECTIONS:
        table = tomlkit.table()
        table.add(tomlkit.comment(SECTION_COMMENTS[section]))
        for setting in SETTINGS:
            if setting.section != section:
                continue
            value = values.get(setting.name, setting.default)
            if setting.name == "factory" and not value:
                continue
            table.add(tomlkit.comment(setting.help))
            table.add(setting.name, _toml_value(value))
        document.add(tomlkit.nl())
        document.add(section, table)
    return document


def _toml_value(value):
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update(value)
        return inline
    return value


def write_new_config(run_dir, values):
    """Write a complete config.toml for a new run (values: ``{name: value}``)."""
    write_text_atomically(config_path(run_dir), tomlkit.dumps(new_document(values)))


def update_config(run_dir, changes):
    """Set some settings in an existing config.toml, keeping the user's edits and comments."""
    document = read_document(run_dir)
    for name, value in changes.items():
        setting = SETTINGS_BY_NAME[name]
        if setting.section not in document:
            document.add(setting.section, tomlkit.table())
        document[setting.section][name] = _toml_value(value)
    write_text_atomically(config_path(run_dir), tomlkit.dumps(document))


def section_values(values, section):
    """The settings of one section, in table order, as ``{name: value}``."""
    return {s.name: values[s.name] for s in SETTINGS if s.section == section and s.name in values}


# --- does a checkpoint still fit? ---------------------------------------------

def shape_snapshot(values):
    """The shape-defining settings, as saved in every checkpoint."""
    return {setting.name: values.get(setting.name) for setting in SHAPE_SETTINGS}


def incompatible_changes(saved_snapshot, values):
    """List ``(setting, was, now)`` for each shape-defining setting that changed."""
    changes = []
    for setting in SHAPE_SETTINGS:
        if setting.name not in saved_snapshot:
            continue
        was, now = saved_snapshot[setting.name], values.get(setting.name)
        if setting.name == "conv_channels" and not values.get("spatial") and not saved_snapshot.get("spatial"):
            continue  # an MLP run does not use conv_channels
        if was != now:
            changes.append((setting, was, now))
    return changes


def incompatibility_message(checkpoint_file, changes, run_dir, action="resume from"):
    """The walkthrough's explanation of why a run must start fresh."""
    lines = [
        f"Cannot {action} {checkpoint_file}: incompatible changes detected in config.toml.",
        "",
        "The following changes require starting fresh. The existing model was",
        "trained on a different problem and its weights cannot be reused:",
        "",
    ]
    for setting, was, now in changes:
        lines += [
            f"  {setting.name}",
            f"    was : {was!r}",
            f"    now : {now!r}",
            f"    why : {setting.why}",
            "",
        ]
    lines += [
        f"Run 'retro-gamer clean {run_dir}' to remove existing checkpoints and the",
        f"training log, then run 'retro-gamer train {run_dir}' to start fresh.",
    ]
    return "\n".join(lines)
