"""config.toml: a run's settings on disk, each under the comment that explains it.

tomlkit keeps the user's comments and layout when a file is changed
(``update_config``), and a new file is written with every setting under its
one-line help (``new_document``), so the file teaches what it holds. The
settings and their rules are in ``settings.py``; the checking is in
``validation.py``.
"""

from pathlib import Path

import tomlkit
import tomlkit.exceptions

from retro_gamer.errors import ConfigError
from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.run.settings import SECTION_COMMENTS, SECTIONS, SETTINGS, SETTINGS_BY_NAME
from retro_gamer.run.validation import validate

CONFIG_FILE = "config.toml"


def config_path(run_dir):
    return Path(run_dir) / CONFIG_FILE


def read_config(run_dir):
    """Read and validate ``RUN_DIR/config.toml``; return its ``Settings``."""
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


def new_document(settings):
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
            value = getattr(settings, setting.name)
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


def write_new_config(run_dir, settings):
    """Write a complete config.toml for a new run."""
    write_text_atomically(config_path(run_dir), tomlkit.dumps(new_document(settings)))


def update_config(run_dir, changes):
    """Set some settings in an existing config.toml, keeping the user's edits and comments."""
    document = read_document(run_dir)
    for name, value in changes.items():
        setting = SETTINGS_BY_NAME[name]
        if setting.section not in document:
            document.add(setting.section, tomlkit.table())
        document[setting.section][name] = _toml_value(value)
    write_text_atomically(config_path(run_dir), tomlkit.dumps(document))
