"""Finding games, reading their descriptions, and the errors on the way."""

import importlib.util
import sys
from pathlib import Path

import pytest
from retro.game import Game

from retro_gamer.errors import GameCrashed, GameError, RetroGamerError
from retro_gamer.game.loading import (
    BUILT_IN_DESCRIPTIONS,
    GameSource,
    description_problems,
    load_game,
    nearest_pyproject,
    new_game,
)

GAMES = Path(__file__).parent / "games"
EXAMPLES = Path(importlib.util.find_spec("retro.examples").submodule_search_locations[0])


def load_error(spec):
    """The RetroGamerError that loading (and creating) the game raises."""
    with pytest.raises(RetroGamerError) as caught:
        new_game(load_game(spec))
    message = str(caught.value)
    assert "Traceback" not in message
    return caught.value


# ---------------------------------------------------------------- retro-games' own examples


def test_snake_by_module_name_uses_the_built_in_description():
    source = load_game("retro.examples.snake")
    assert source.spec == "retro.examples.snake"
    assert source.display_name == "retro.examples.snake"
    assert source.description_path == "built-in"
    assert source.description == {
        "actions": ["KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"],
        "reward": "score",
        "character_set": ["@", "*", ">", "<", "^", "v"],
        "observe_state": ["apple_dx", "apple_dy"],
        "egocentric": True,
        "egocentric_player": "Snake head",
        "egocentric_radius": 2,
        "max_turns_per_episode": 5000,
    }
    game = new_game(source)
    assert isinstance(game, Game)
    assert game.board_size == (32, 16)


def test_snake_by_path_is_recognised_as_the_built_in_game():
    snake_file = EXAMPLES / "snake.py"
    source = load_game(str(snake_file))
    assert source.spec == str(snake_file.resolve())
    assert source.description_path == "built-in"
    assert source.description["egocentric_player"] == "Snake head"
    assert new_game(source).board_size == (32, 16)


def test_the_built_in_description_is_a_fresh_copy_each_time():
    load_game("retro.examples.snake").description["actions"].append("KEY_HOME")
    assert load_game("retro.examples.snake").description["actions"] == [
        "KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"
    ]
    assert "KEY_HOME" not in BUILT_IN_DESCRIPTIONS["retro.examples.snake"]["actions"]


def test_nav_module_name_picks_the_package_and_its_pyproject():
    # The wheel has both nav.py and nav/; the import system picks nav/.
    source = load_game("retro.examples.nav")
    assert Path(source.description_path) == (EXAMPLES / "nav" / "pyproject.toml").resolve()
    assert source.description["spatial"] is True
    assert source.description["actions"] == ["KEY_LEFT", "KEY_RIGHT"]
    assert new_game(source).board_size == (25, 25)


@pytest.mark.parametrize("spec", ["retro.examples.beast", str(EXAMPLES / "beast")])
def test_beast_by_module_name_and_by_folder(spec):
    source = load_game(spec)
    assert source.description["spatial"] is True
    assert source.description["character_set"] == ["*", "H", "█"]
    assert source.description_path.endswith("pyproject.toml")
    game = new_game(source)
    assert game.board_size == (40, 20)
    assert "player" in game.agents_by_name


def test_nav_by_folder_stores_the_absolute_path():
    source = load_game(str(EXAMPLES / "nav"))
    assert source.spec == str((EXAMPLES / "nav").resolve())
    assert source.description["spatial"] is True
    assert new_game(source).board_size == (25, 25)


def test_every_call_returns_a_new_game():
    source = load_game("retro.examples.snake")
    assert new_game(source) is not new_game(source)
    assert new_game(source.factory).board_size == (32, 16)


# ---------------------------------------------------------------- the test games


def test_catch_package_with_relative_imports(monkeypatch):
    monkeypatch.chdir(GAMES.parent)
    source = load_game("games/catch")
    assert source.display_name == "games/catch"
    assert source.spec == str(GAMES / "catch")
    assert source.description == {
        "actions": ["KEY_LEFT", "KEY_RIGHT"],
        "reward": "score",
        "character_set": ["=", "o"],
    }
    game = new_game(source)
    assert game.board_size == (5, 6)
    assert game.get_agent_by_name("paddle").character == "="


def test_a_single_file_uses_the_nearest_pyproject_above_it():
    source = load_game(str(GAMES / "walker.py"))
    assert source.description_path == str(GAMES / "pyproject.toml")
    assert source.spec == str(GAMES / "walker.py")
    assert new_game(source).board_size == (6, 4)


def test_two_files_with_the_same_name_stay_two_games():
    twin_a = load_game(str(GAMES / "twins" / "a" / "game.py"))
    twin_b = load_game(str(GAMES / "twins" / "b" / "game.py"))
    assert new_game(twin_a).board_size == (3, 2)
    assert new_game(twin_b).board_size == (4, 5)
    assert twin_a.factory.__module__ != twin_b.factory.__module__
    assert new_game(load_game(str(GAMES / "twins" / "a" / "game.py"))).board_size == (3, 2)


@pytest.mark.parametrize("spec", ["factory_game", "factory_game/factory_levels.py"])
def test_a_factory_named_in_the_description_replaces_create_game(spec):
    source = load_game(str(GAMES / spec))
    assert source.factory.__name__ == "small_level"
    assert new_game(source).board_size == (2, 2)


def test_a_plain_function_can_be_the_factory():
    def tiny_game():
        return Game([], {"score": 0}, board_size=(2, 3))

    assert new_game(tiny_game).board_size == (2, 3)


# ---------------------------------------------------------------- not found


def test_missing_file():
    error = load_error("no/such/game.py")
    assert isinstance(error, GameError)
    assert "not found" in str(error) and "no/such/game.py" in str(error)


def test_missing_module():
    error = load_error("retro_gamer_no_such_game_module")
    assert isinstance(error, GameError)
    assert "not found" in str(error) and "retro_gamer_no_such_game_module" in str(error)


def test_missing_submodule_of_an_existing_package():
    error = load_error("retro.examples.no_such_game")
    assert isinstance(error, GameError) and "not found" in str(error)


def test_a_module_name_that_is_a_file_without_py_gets_a_hint(tmp_path, monkeypatch):
    (tmp_path / "rg_hint_game.py").write_text("def create_game():\n    pass\n")
    monkeypatch.chdir(tmp_path)
    error = load_error("rg_hint_game")
    assert "Did you mean the file rg_hint_game.py?" in str(error)


def test_a_file_that_is_not_python(tmp_path):
    text_file = tmp_path / "game.txt"
    text_file.write_text("not a game")
    error = load_error(str(text_file))
    assert "not a Python file" in str(error)


def test_a_folder_without_init_py():
    error = load_error(str(GAMES / "twins"))
    assert isinstance(error, GameError)
    assert "__init__.py" in str(error) and "twins" in str(error)


# ---------------------------------------------------------------- the game author's errors


def test_the_games_own_import_error_shows_its_traceback():
    error = load_error(str(GAMES / "import_error.py"))
    assert isinstance(error, GameCrashed)
    message = str(error)
    assert "ModuleNotFoundError" in message
    assert "retro_gamer_test_missing_dependency" in message
    assert "import_error.py, line 3" in message
    assert "Traceback" in error.details
    assert "import retro_gamer_test_missing_dependency" in error.details
    assert "importlib" not in error.details
    assert "retro_gamer/game/loading.py" not in error.details


def test_a_module_name_game_whose_import_fails_is_a_crash_not_not_found(tmp_path, monkeypatch):
    (tmp_path / "rg_test_broken_game.py").write_text(
        "import rg_test_dependency_nobody_has\n\ndef create_game():\n    pass\n"
    )
    (tmp_path / "pyproject.toml").write_text('[tool.retro-gamer]\nactions = ["KEY_UP"]\nreward = "score"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    error = load_error("rg_test_broken_game")
    assert isinstance(error, GameCrashed)
    assert "rg_test_dependency_nobody_has" in str(error)
    sys.modules.pop("rg_test_broken_game", None)


def test_a_package_above_the_module_that_crashes(tmp_path, monkeypatch):
    package = tmp_path / "rg_test_broken_package"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('broken package init')\n")
    (package / "game.py").write_text("def create_game():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    error = load_error("rg_test_broken_package.game")
    assert isinstance(error, GameCrashed)
    assert "broken package init" in str(error)


def test_no_create_game():
    error = load_error(str(GAMES / "no_create_game.py"))
    assert isinstance(error, GameError) and not isinstance(error, GameCrashed)
    assert "create_game()" in str(error) and "no_create_game.py" in str(error)
    assert "factory" in str(error)


def test_create_game_raising_shows_the_authors_traceback():
    source = load_game(str(GAMES / "create_game_raises.py"))
    with pytest.raises(GameCrashed) as caught:
        new_game(source)
    message = str(caught.value)
    assert "Traceback" not in message
    assert "FileNotFoundError" in message and "levels/first.txt" in message
    assert "create_game()" in message
    assert "create_game_raises.py, line 5, in load_level" in message
    details = caught.value.details
    assert "Traceback" in details
    assert "in create_game" in details and "in load_level" in details
    assert "retro_gamer/game/loading.py" not in details


def test_create_game_returning_something_else():
    error = load_error(str(GAMES / "not_a_game.py"))
    assert isinstance(error, GameError) and not isinstance(error, GameCrashed)
    assert "returned list" in str(error) and "not a retro.game.Game" in str(error)


def test_a_plain_function_returning_none():
    with pytest.raises(GameError, match="returned NoneType"):
        new_game(lambda: None)


# ---------------------------------------------------------------- descriptions


def test_a_pyproject_without_a_description():
    error = load_error(str(GAMES / "no_description" / "game.py"))
    assert isinstance(error, GameError)
    message = str(error)
    assert str(GAMES / "no_description" / "pyproject.toml") in message
    assert "[tool.retro-gamer]" in message


def test_a_bad_description_lists_every_problem_with_its_fix():
    error = load_error(str(GAMES / "bad_description" / "game.py"))
    assert isinstance(error, GameError)
    message = str(error)
    assert str(GAMES / "bad_description" / "pyproject.toml") in message
    lines = message.splitlines()
    assert "7 problems" in lines[0]
    problems = lines[1:]
    assert len(problems) == 7
    joined = "\n".join(problems)
    assert "egocentric_raduis: unknown key; did you mean 'egocentric_radius'?" in joined
    assert "board_size: remove it" in joined
    assert "actions: must be a list" in joined
    assert "reward: must" in joined
    assert "character_set: must be a list of single characters" in joined
    assert "spatial: must be true or false" in joined
    assert "observe_state_sizes: must give each key a positive whole length" in joined


def test_no_pyproject_anywhere(tmp_path):
    (tmp_path / "site-packages").mkdir()
    game_file = tmp_path / "site-packages" / "lonely_game.py"
    game_file.write_text("def create_game():\n    pass\n")
    (tmp_path / "pyproject.toml").write_text('[tool.retro-gamer]\nactions = ["KEY_UP"]\nreward = "score"\n')
    error = load_error(str(game_file))
    assert isinstance(error, GameError)
    assert "No description found" in str(error) and "[tool.retro-gamer]" in str(error)


def test_the_search_stops_at_site_packages(tmp_path):
    inner = tmp_path / "site-packages" / "some_game"
    inner.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.retro-gamer]\n")
    assert nearest_pyproject(inner) is None
    (inner / "pyproject.toml").write_text("[tool.retro-gamer]\n")
    assert nearest_pyproject(inner) == inner / "pyproject.toml"


def test_invalid_toml(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.retro-gamer\nactions = \n")
    (tmp_path / "game.py").write_text("def create_game():\n    pass\n")
    error = load_error(str(tmp_path / "game.py"))
    assert isinstance(error, GameError)
    assert "not valid TOML" in str(error) and str(tmp_path / "pyproject.toml") in str(error)


def test_factory_module_not_found(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.retro-gamer]\nactions = ["KEY_UP"]\nreward = "score"\nfactory = "rg_no_such_levels:make"\n'
    )
    (tmp_path / "game.py").write_text("def create_game():\n    pass\n")
    error = load_error(str(tmp_path / "game.py"))
    assert isinstance(error, GameError) and not isinstance(error, GameCrashed)
    assert "rg_no_such_levels" in str(error)


def test_factory_function_not_found(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.retro-gamer]\nactions = ["KEY_UP"]\nreward = "score"\nfactory = "rg_test_levels_module:hard"\n'
    )
    (tmp_path / "rg_test_levels_module.py").write_text("def easy():\n    pass\n")
    error = load_error(str(tmp_path / "rg_test_levels_module.py"))
    assert isinstance(error, GameError)
    assert "no function 'hard'" in str(error)
    sys.modules.pop("rg_test_levels_module", None)


VALID = {"actions": ["KEY_LEFT", "KEY_RIGHT"], "reward": "score"}


def test_a_valid_description_has_no_problems():
    full = dict(
        VALID,
        character_set=["@", "█"],
        spatial=True,
        board=False,
        observe_state=["vec"],
        observe_state_sizes={"vec": 3},
        egocentric=True,
        egocentric_player="hero",
        egocentric_radius=1,
        factory="pkg.levels:make_level",
    )
    assert description_problems(VALID) == []
    assert description_problems(full) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"actions": []}, "actions: must list at least one key"),
        ({"actions": ["KEY_UP", "KEY_UP"]}, "actions: lists ['KEY_UP'] more than once"),
        ({"actions": ["KEY_UP", 3]}, "actions: must be"),
        ({"reward": ""}, "reward: must not be empty"),
        ({"character_set": ["@", " "]}, "character_set: must not hold ' '"),
        ({"character_set": "@*"}, "character_set: must be a list"),
        ({"board": 1}, "board: must be true or false"),
        ({"egocentric": "true"}, "egocentric: must be true or false"),
        ({"observe_state": "apple_dx"}, "observe_state: must be a list"),
        ({"observe_state": ["a", "a"]}, "observe_state: lists ['a'] more than once"),
        ({"observe_state_sizes": {"vec": True}}, "observe_state_sizes: must give each key a positive whole length"),
        ({"observe_state_sizes": [3]}, "observe_state_sizes: must be a table"),
        ({"egocentric_player": 7}, "egocentric_player: must be a string"),
        ({"egocentric_radius": 0}, "egocentric_radius: must be at least 1"),
        ({"egocentric_radius": True}, "egocentric_radius: must be a whole number"),
        ({"egocentric_radius": 2.0}, "egocentric_radius: must be a whole number"),
        ({"factory": "levels.make"}, 'factory: must be "module:function"'),
        ({"charset": ["@"]}, "charset: unknown key; did you mean 'character_set'?"),
        ({"zzz": 1}, "zzz: unknown key; known keys: actions, reward"),
    ],
)
def test_each_problem_is_named_with_its_fix(changes, expected):
    problems = description_problems(dict(VALID, **changes))
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_missing_required_keys():
    problems = description_problems({})
    assert len(problems) == 2
    assert problems[0].startswith("actions: missing")
    assert problems[1].startswith("reward: missing")


def test_game_source_holds_plain_values():
    source = load_game(str(GAMES / "catch"))
    assert isinstance(source, GameSource)
    assert type(source.description) is dict
    assert all(type(character) is str for character in source.description["character_set"])
