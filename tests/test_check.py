"""``retro-gamer check``: each finding, triggered by a game made to trigger it.

Most tests call ``check_game`` in this process with few episodes (fast);
a few run the real command in a subprocess, for the exit codes, the output
and the time a user waits. The games are retro-games' own examples and the
small games in tests/games/, several broken on purpose.
"""

import time

import pytest

from cli_helpers import GAMES, run_cli, run_main
from retro_gamer.game.check import NOTE, PROBLEM, WARNING, check_game
from retro_gamer.game.random_play import episode_seed
from retro_gamer.game.view_choice import choose_view, find_players
from retro_gamer.game.loading import load_game, new_game

EXAMPLES = ["retro.examples.snake", "retro.examples.nav", "retro.examples.beast"]
PLAYERS = {"retro.examples.snake": "Snake head", "retro.examples.nav": "ship", "retro.examples.beast": "player"}


def check(game, episodes=4, **options):
    return check_game(str(game), episodes=episodes, **options)


def finding(report, level, topic):
    """The text and advice of the one finding of ``level`` about ``topic``."""
    found = [f for f in report.findings if f.level == level and f.topic == topic]
    assert len(found) == 1, report.format()
    return found[0].text + "\n" + found[0].advice + "\n" + found[0].details


# --- the examples: the player named, nothing that stops training, in seconds -------------

@pytest.mark.parametrize("game", EXAMPLES)
def test_an_example_passes_in_seconds_and_names_its_player(game):
    started = time.perf_counter()
    code, out, err = run_main(["check", game])  # the default 20 episodes
    seconds = time.perf_counter() - started
    assert code == 0, out + err
    assert seconds < 10
    assert f"'{PLAYERS[game]}' (a " in out
    assert f'egocentric_player = "{PLAYERS[game]}"' in out
    assert "Nothing here would stop training" in out
    assert "problem:" not in out


def test_snake_through_the_real_command_reports_its_sparse_score():
    started = time.perf_counter()
    code, out, err = run_cli(["check", "retro.examples.snake"])
    assert time.perf_counter() - started < 10
    assert code == 0, err
    assert err == ""
    assert "view          : a 5x5 window around 'Snake head' (egocentric = true in the game's description)" in out
    assert "network       : MLP over the window (spatial = false by default)" in out
    assert "warning: reward: 'score' changed in only" in out and "too sparse" in out
    # the shaped key Snake keeps is offered instead
    assert "'reward' (100% of turns)" in out
    assert "baseline" in out and "same episode twice (reproducible)" in out


def test_nav_draws_a_character_its_character_set_lacks():
    # The ship's explosion, '*', is not in nav's character_set ["^", "O"].
    text = finding(check("retro.examples.nav"), WARNING, "characters")
    assert "'*'" in text and "empty cells" in text


def test_the_same_seed_gives_the_same_report_and_another_seed_another():
    first = check("retro.examples.snake", seed=3).format().splitlines()
    again = check("retro.examples.snake", seed=3).format().splitlines()
    other = check("retro.examples.snake", seed=4).format().splitlines()
    without_time = lambda lines: [line for line in lines if "random play" not in line]  # noqa: E731
    assert without_time(first) == without_time(again)
    assert without_time(first) != without_time(other)


# --- each finding, from a game made for it -------------------------------------------------

def test_an_action_the_game_ignores():
    report = check(GAMES / "dead_key.py")
    text = finding(report, WARNING, "actions")
    assert text.startswith("KEY_LEFT never changed")
    assert "KEY_RIGHT" not in text.splitlines()[0]
    assert "only include actions the game responds to" in text
    assert report.exit_code() == 0 and report.exit_code(strict=True) == 1


def test_a_reward_that_never_changes_stops_training_and_the_key_that_changes_is_named():
    report = check(GAMES / "constant_reward.py")
    text = finding(report, PROBLEM, "reward")
    assert "'score' never changed" in text and "'steps'" in text
    assert report.exit_code() == 1
    # its player has no name, so no egocentric view could follow it
    assert "no name" in finding(report, NOTE, "player")


def test_an_endless_game_is_left_to_max_turns_per_episode():
    report = check(GAMES / "endless.py", episodes=2, max_turns=50)
    text = finding(report, WARNING, "episodes")
    assert "no episode ended within 50 turns" in text and "max_turns_per_episode (5000)" in text
    # and no agent receives the keys at all
    assert "handle_keystroke" in finding(report, PROBLEM, "player")
    assert "actions" not in report.topics()


def test_a_game_with_its_own_unseeded_generator_is_not_reproducible():
    text = finding(check(GAMES / "unseeded.py"), WARNING, "reproducibility")
    assert "random.Random()" in text


def test_a_list_that_grows_every_turn():
    report = check(GAMES / "growing_list")
    text = finding(report, PROBLEM, "observe_state")
    assert text.startswith("'path' changes length: 1 value at first, 2 at random episode 1, turn 1")
    assert report.exit_code() == 1


def test_observed_keys_in_a_run_folder_checked_before_any_training(tmp_path):
    # create accepts 'history' (the first game is fine); it grows by one in each new game.
    run = tmp_path / "run"
    code, _, err = run_main(["create", "--game", GAMES / "observed_state.py", "--output", run,
                             "--observe-state", "speed,history"])
    assert code == 0, err
    text = finding(check(run), PROBLEM, "observe_state")
    assert text.startswith("'history' changes length") and "at random episode 2, turn 0" in text


def test_a_run_folder_with_a_character_never_seen(tmp_path):
    run = tmp_path / "run"
    assert run_main(["create", "--game", GAMES / "catch", "--output", run, "--character-set", "=o#"])[0] == 0
    report = check(run)
    assert report.facts[0] == ("read from", f"the run folder's config.toml (game {GAMES / 'catch'})")
    assert "'#'" in finding(report, NOTE, "characters")
    assert report.exit_code() == 0


def test_a_description_without_character_set_is_told_what_to_write():
    text = finding(check(GAMES / "walker.py"), NOTE, "characters")
    assert 'character_set = ["@", "█"]' in text


@pytest.mark.parametrize("game, topic, words", [
    ("missing_reward_key.py", "reward", "'score' is not in the game's state"),
    ("text_reward.py", "reward", "holds 'none yet', which is not a number"),
    ("no_create_game.py", "game", "has no create_game() function"),
    ("not_a_game.py", "game", "returned list, not a retro.game.Game"),
    ("bad_description", "game", "has 7 problems"),
    ("no_description", "game", "has no [tool.retro-gamer] table"),
    ("import_error.py", "crash", "No module named 'retro_gamer_test_missing_dependency'"),
    ("create_game_raises.py", "crash", "FileNotFoundError: level file levels/first.txt is missing"),
])
def test_each_broken_game_names_its_problem(game, topic, words):
    report = check(GAMES / game)
    assert words in finding(report, PROBLEM, topic)
    assert report.exit_code() == 1


def test_a_crash_mid_episode_shows_the_authors_traceback_with_episode_and_turn():
    code, out, err = run_cli(["check", GAMES / "crash_mid_episode.py"])
    assert code == 1
    assert "problem: crash: The game crashed on turn 3: ZeroDivisionError" in out
    assert "(random episode 1, turn 3)" in out
    assert '|     game.state["score"] += 1 / (CRASH_TURN - game.turn_number)' in out
    assert "retro_gamer" not in out.split("Traceback", 1)[1].split("\n\n", 1)[0]
    assert "2 problems would stop training" in out  # the crash, and no player
    assert err == ""


# --- the command line ----------------------------------------------------------------------

def test_help_teaches_what_is_checked_and_the_exit_codes():
    code, out, _ = run_main(["check", "--help"])
    assert code == 0
    for words in ("observe_state", "too sparse", "egocentric_player", "exit codes", "--strict",
                  "retro-gamer check runs/snake/"):
        assert words in out


@pytest.mark.parametrize("arguments, words", [
    (["check"], "the following arguments are required: GAME"),
    (["check", "retro.examples.snake", "--episodes", "0"], "must be at least 1"),
])
def test_bad_arguments_are_one_line_and_exit_2(arguments, words):
    code, out, err = run_main(arguments)
    assert code == 2 and words in err and "Traceback" not in err


def test_a_game_that_does_not_exist_is_one_problem_without_a_traceback(tmp_path):
    code, out, err = run_main(["check", tmp_path / "nowhere.py"])
    assert code == 1 and "Game file or folder not found" in out and "Traceback" not in out + err


# --- the parts ----------------------------------------------------------------------------

def test_the_player_is_the_agent_with_handle_keystroke():
    game = new_game(load_game("retro.examples.beast"))
    players = find_players(game)
    assert [(player.name, player.kind) for player in players] == [("player", "Player")]


def test_choose_view_keeps_the_description_and_fills_the_defaults():
    ship = find_players(new_game(load_game("retro.examples.nav")))
    described = choose_view({"egocentric": True, "egocentric_player": "ship"}, {}, ship, (25, 25))
    assert described.settings() == {"board": True, "spatial": False, "egocentric": True,
                                     "egocentric_player": "ship", "egocentric_radius": 3,
                                     "conv_channels": [16, 32]}
    assert described.view_line() == "a 7x7 window around 'ship' (egocentric = true in the game's description)"
    assert choose_view({}, {}, [], (9, 7)).view_line() == (
        "the whole 9x7 board (no agent has a handle_keystroke method, so there is no player to follow)")


def test_episode_seeds_differ():
    assert len({episode_seed(0, index) for index in range(100)} | {episode_seed(1, 0)}) == 101
