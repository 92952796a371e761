"""How does retro-gamer find a game, and what does it need to know about it?

A game is a function, ``create_game()``, that takes no arguments and returns a
new ``retro.game.Game``. Training calls it once per episode. ``--game`` names
the code that defines it in one of three ways:

=====================  ==========================  =============================
``--game``             example                     stored in config.toml as
=====================  ==========================  =============================
a ``.py`` file         ``my_game.py``              its absolute path
a package folder       ``games/catch``             its absolute path
a module name          ``retro.examples.snake``    the module name
=====================  ==========================  =============================

A file is imported under a name made from its absolute path, so two games
that are both called ``game.py`` never replace each other; its folder is put
on ``sys.path`` first, as ``python my_game.py`` would, so it can import its
neighbours. A package folder is imported the same way, as a package, so its
relative imports (``from .agents import Ball``) work.

The description. What the agent may press and what it is rewarded for live
in the ``[tool.retro-gamer]`` table of the game project's ``pyproject.toml``:
the nearest one found walking up from the game's file (the search stops at
``site-packages`` or the filesystem root). Snake ships inside retro-games
without one, so its description is built in below. Every problem in a
description is reported at once, one line each, with how to fix it.

``factory = "module:function"`` in the description names another function to
call instead of ``create_game``; the module is imported with the
pyproject.toml's folder on ``sys.path``, like a project's entry point.

A game author's own bugs (an import that fails, ``create_game`` raising) are
reported as ``GameCrashed``, carrying the author's traceback: it is their code.
"""

import copy
import difflib
import hashlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from retro.game import Game

from retro_gamer.run.settings import PREPROCESSING_OPTIONS, SETTINGS_BY_NAME
from retro_gamer.run.validation import check_value
from retro_gamer.errors import GameCrashed, GameError

# Descriptions for games that cannot carry a pyproject.toml of their own.
BUILT_IN_DESCRIPTIONS = {
    "retro.examples.snake": {
        "actions": ["KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"],
        "reward": "score",
        "character_set": ["@", "*", ">", "<", "^", "v"],
        "observe_state": ["apple_dx", "apple_dy"],
        "egocentric": True,
        "egocentric_player": "Snake head",
        # A 5x5 window, measured on Snake (seed 0, 1000 episodes, both with
        # the apple's direction): the whole 32 x 16 board reached 0.5 apples
        # per episode, this window 5.4. See "The egocentric window and its
        # edge channel" in docs/how-it-works.md.
        "egocentric_radius": 2,
        # The measured default run (docs/results.md) plays up to 5000 turns a
        # game, the table's default; without this line create would choose a
        # cap from random games' length (run/folder.py, choose_episodes).
        "max_turns_per_episode": 5000,
    },
}

EXAMPLE_DESCRIPTION = """\
[tool.retro-gamer]
actions = ["KEY_LEFT", "KEY_RIGHT"]
reward = "score\""""

FACTORY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")

# Where retro-gamer's own code lives; its frames are left out of a game's traceback.
RETRO_GAMER_FOLDER = str(Path(__file__).resolve().parent) + os.sep


@dataclass
class GameSource:
    """A game that was found, with its validated description.

    spec: what config.toml stores: the module name, or the absolute path of
        the file or package folder.
    display_name: what the user typed, for messages and summaries.
    factory: the function that returns a new Game.
    description: the ``[tool.retro-gamer]`` values (plain Python values).
    description_path: the pyproject.toml it came from, or "built-in".
    """

    spec: str
    display_name: str
    factory: Callable[[], Game]
    description: dict
    description_path: str


@dataclass
class GameLocation:
    """Where a game's code is, before anything is imported.

    kind: "file", "package" or "module".
    spec: the absolute path (file, package) or the module name (module).
    code_file: the .py file (``__init__.py`` for a package) the search for
        pyproject.toml starts beside.
    """

    kind: str
    spec: str
    code_file: Path


def load_game(spec: str, factory_override: str = "") -> GameSource:
    """Find the game ``spec`` names, read its description, import its factory.

    The factory is ``factory_override`` when given (config.toml's
    ``[game] factory``), else the description's ``factory``, else the
    module's ``create_game``. Raises GameError (not found, no or bad
    description, no create_game) or GameCrashed (the game's own code failed
    while being imported).
    """
    location = locate_game(spec)
    description, description_path = find_description(location)
    named_factory = factory_override or description.get("factory")
    if named_factory:
        if not FACTORY_PATTERN.match(named_factory):
            raise GameError(f'factory = {named_factory!r} must be "module:function", '
                            'e.g. factory = "my_game:create_hard_game".')
        project_folder = (Path(description_path).parent if description_path != "built-in"
                          else location.code_file.parent)
        factory = import_named_factory(named_factory, project_folder)
    else:
        factory = find_create_game(location)
    return GameSource(
        spec=location.spec,
        display_name=spec,
        factory=factory,
        description=description,
        description_path=description_path,
    )


def new_game(source_or_factory) -> Game:
    """Call the game's factory and check that it returned a Game."""
    if isinstance(source_or_factory, GameSource):
        factory = source_or_factory.factory
    else:
        factory = source_or_factory
    name = factory_name(factory)
    try:
        game = factory()
    except Exception as error:
        raise game_crashed(f"in {name}", error) from error
    if not isinstance(game, Game):
        raise GameError(
            f"{name} returned {type(game).__name__}, not a retro.game.Game. It must build and "
            "return a new game each time it is called, for example: "
            "return Game(agents, {'score': 0}, board_size=(32, 16))"
        )
    return game


# ---------------------------------------------------------------- locating


def locate_game(spec: str) -> GameLocation:
    """Decide whether ``spec`` is a file, a package folder or a module name."""
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix != ".py":
            raise GameError(f"{spec} is not a Python file: --game takes a .py file, "
                            "a package folder or a module name.")
        return GameLocation("file", str(path.resolve()), path.resolve())
    if path.is_dir():
        folder = path.resolve()
        return GameLocation("package", str(folder), folder / "__init__.py")
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        raise GameError(
            f"Game file or folder not found: {spec} (relative paths start from "
            f"{Path.cwd()}). Check the path, or give a module name such as retro.examples.snake."
        )
    return locate_module(spec)


def locate_module(name: str) -> GameLocation:
    """Find an importable module's file without running the module itself."""
    not_found = GameError(
        f"Game not found: {name} is not a file, a folder or an importable module. Give the "
        "path of the game's .py file or package folder, or a module name such as "
        "retro.examples.snake."
    )
    if Path(name + ".py").is_file():
        not_found = GameError(f"Game not found: {name}. Did you mean the file {name}.py?")
    try:
        module_spec = importlib.util.find_spec(name)
    except ValueError:  # not a valid module name, e.g. "..game"
        raise not_found from None
    except Exception as error:
        if is_missing_module(name, error):
            raise not_found from None
        raise game_crashed(f"while importing the packages above {name}", error) from error
    if module_spec is None or module_spec.origin is None:
        raise not_found
    return GameLocation("module", name, Path(module_spec.origin).resolve())


# ---------------------------------------------------------------- description


def find_description(location: GameLocation) -> tuple[dict, str]:
    """The game's validated description and where it came from."""
    pyproject = nearest_pyproject(location.code_file.parent)
    if pyproject is not None:
        return read_description(pyproject), str(pyproject)
    built_in = built_in_description(location.code_file)
    if built_in is not None:
        return built_in, "built-in"
    raise GameError(
        f"No description found for the game {location.spec}: there is no pyproject.toml in "
        f"{location.code_file.parent} or the folders above it. Create one next to the game "
        f"with a [tool.retro-gamer] table, for example:\n{EXAMPLE_DESCRIPTION}"
    )


def nearest_pyproject(folder: Path) -> Path | None:
    """The first pyproject.toml in ``folder`` or above, stopping at site-packages."""
    for candidate_folder in [folder, *folder.parents]:
        if candidate_folder.name in ("site-packages", "dist-packages"):
            return None
        candidate = candidate_folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def built_in_description(code_file: Path) -> dict | None:
    """The built-in description of the module whose file is ``code_file``, if any."""
    for module_name, description in BUILT_IN_DESCRIPTIONS.items():
        module_spec = importlib.util.find_spec(module_name)
        if module_spec is not None and Path(module_spec.origin).resolve() == code_file:
            return copy.deepcopy(description)
    return None


def read_description(pyproject: Path) -> dict:
    """Read and validate ``[tool.retro-gamer]`` from one pyproject.toml."""
    try:
        with open(pyproject, "rb") as file:
            document = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise GameError(f"{pyproject} is not valid TOML ({error}). Fix the file.") from None
    description = document.get("tool", {}).get("retro-gamer")
    if description is None:
        raise GameError(
            f"{pyproject} has no [tool.retro-gamer] table describing the game. "
            f"Add one, for example:\n{EXAMPLE_DESCRIPTION}"
        )
    if not isinstance(description, dict):
        raise GameError(f"In {pyproject}, tool.retro-gamer must be a table: [tool.retro-gamer].")
    problems = description_problems(description)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise GameError(
            f"The game description [tool.retro-gamer] in {pyproject} has {count}:\n{lines}"
        )
    return description


def description_problems(description: dict) -> list[str]:
    """Every problem in a description, one line each, with how to fix it.

    The values are checked by the same rules as config.toml's (the settings
    table in run/settings.py), plus what only a description needs.
    """
    problems = []
    for key, value in description.items():
        if key == "board_size":
            problems.append("board_size: remove it; the board size is read from the game itself.")
        elif key not in DESCRIPTION_KEYS:
            close = difflib.get_close_matches(key, list(DESCRIPTION_KEYS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(DESCRIPTION_KEYS)
            problems.append(f"{key}: unknown key; {hint}")
        else:
            _, problem = check_value(SETTINGS_BY_NAME[key], value)
            if problem is None:
                problem = extra_problem(key, value)
            if problem:
                problems.append(f"{key}: {problem}")
    if "actions" not in description:
        problems.append('actions: missing; list the keys the agent may press, '
                        'e.g. actions = ["KEY_LEFT", "KEY_RIGHT"].')
    if "reward" not in description:
        problems.append('reward: missing; name the game.state key to maximise, '
                        'e.g. reward = "score".')
    return problems


def extra_problem(key, value) -> str | None:
    """What a description must satisfy beyond the value's type."""
    if key == "actions" and not value:
        return 'must list at least one key, e.g. actions = ["KEY_LEFT", "KEY_RIGHT"].'
    if key in ("reward", "egocentric_player") and not value:
        return "must not be empty."
    if key == "factory" and not FACTORY_PATTERN.match(value):
        return f'must be "module:function", e.g. factory = "my_game:create_hard_game" (got {value!r}).'
    return None


# Every key a description may hold: what the game is, how to create it,
# starting values for any [preprocessing] option of config.toml, and the
# longest episode worth playing (else create chooses one from random play).
DESCRIPTION_KEYS = ("actions", "reward", "character_set", *PREPROCESSING_OPTIONS, "max_turns_per_episode",
                    "factory")


# ---------------------------------------------------------------- importing


def find_create_game(location: GameLocation) -> Callable[[], Game]:
    """Import the game's module and return its ``create_game`` function."""
    module = import_game_module(location)
    create_game = getattr(module, "create_game", None)
    if not callable(create_game):
        raise GameError(
            f"{location.spec} has no create_game() function. Add one that takes no arguments "
            "and returns a new Game, or name another function in [tool.retro-gamer] with "
            'factory = "module:function".'
        )
    return create_game


def import_game_module(location: GameLocation):
    """Import the module at ``location``, reporting the author's errors as GameCrashed."""
    if location.kind == "module":
        try:
            return importlib.import_module(location.spec)
        except Exception as error:
            raise game_crashed(f"while importing {location.spec}", error) from error
    if location.kind == "package" and not location.code_file.is_file():
        raise GameError(
            f"The folder {location.spec} is not a Python package: it has no __init__.py. Put "
            "create_game() in its __init__.py, or give --game the .py file that defines it."
        )
    return import_from_file(location.code_file, package=location.kind == "package")


def import_from_file(code_file: Path, package: bool):
    """Import a .py file (or a package's ``__init__.py``) under a unique name.

    The name carries a hash of the path, so two games in different folders
    with the same file name stay two different modules.
    """
    folder = code_file.parent
    stem = folder.name if package else code_file.stem
    path_hash = hashlib.sha1(str(code_file).encode()).hexdigest()[:10]
    module_name = f"retro_gamer_game_{re.sub(r'[^A-Za-z0-9_]', '_', stem)}_{path_hash}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    import_folder = str(folder.parent if package else folder)
    if import_folder not in sys.path:
        sys.path.insert(0, import_folder)
    search_locations = [str(folder)] if package else None
    module_spec = importlib.util.spec_from_file_location(
        module_name, code_file, submodule_search_locations=search_locations
    )
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise game_crashed(f"while importing {code_file}", error) from error
    return module


def import_named_factory(factory: str, project_folder: Path) -> Callable[[], Game]:
    """Import ``"module:function"`` from a game project (a description's ``factory``)."""
    module_name, function_name = factory.split(":")
    if str(project_folder) not in sys.path:
        sys.path.insert(0, str(project_folder))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        if is_missing_module(module_name, error):
            raise GameError(
                f"factory = {factory!r}: no module {module_name!r} in {project_folder} or on "
                "the Python path. Check the module name in [tool.retro-gamer]."
            ) from None
        raise game_crashed(f"while importing {module_name}", error) from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise GameError(
            f"factory = {factory!r}: the module {module_name} has no function {function_name!r}. "
            "Check the name in [tool.retro-gamer]."
        )
    return function


def is_missing_module(name: str, error: Exception) -> bool:
    """Whether ``error`` says that module ``name`` (or a package above it) does
    not exist, rather than that the module's own code failed to import something."""
    return (
        isinstance(error, ModuleNotFoundError)
        and error.name is not None
        and (name + ".").startswith(error.name + ".")
    )


# ---------------------------------------------------------------- the author's errors


def game_crashed(when: str, error: Exception) -> GameCrashed:
    """A GameCrashed for an exception raised by the game's own code.

    The message is one line saying what was raised and where; ``details``
    holds the author's traceback, without retro-gamer's or importlib's frames.
    """
    report = traceback.TracebackException.from_exception(error)
    authors_frames = [frame for frame in report.stack if is_authors_frame(frame)]
    report.stack = traceback.StackSummary.from_list(authors_frames)
    if isinstance(error, SyntaxError) and error.filename:
        where = f" ({error.filename}, line {error.lineno})"
    elif authors_frames:
        last = authors_frames[-1]
        where = f" ({last.filename}, line {last.lineno}, in {last.name})"
    else:
        where = ""
    message = (
        f"The game crashed {when}: {type(error).__name__}: {error}{where}. "
        "This is a bug in the game's code; fix it using the game's traceback."
    )
    return GameCrashed(message, details="".join(report.format()))


def is_authors_frame(frame: traceback.FrameSummary) -> bool:
    """False for frames of retro-gamer itself and of the import machinery."""
    return not (
        frame.filename.startswith("<frozen importlib")
        or frame.filename.startswith(RETRO_GAMER_FOLDER)
    )


def factory_name(factory) -> str:
    """``create_game() in /path/game.py``, for messages."""
    name = getattr(factory, "__qualname__", repr(factory))
    module_file = getattr(inspect.getmodule(factory), "__file__", None)
    return f"{name}() in {module_file}" if module_file else f"{name}()"
