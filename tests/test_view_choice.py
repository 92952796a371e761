"""What create chooses when a game's description is silent (issue #22): the player,
the window, its radius, the window's CNN, the episode cap and the number of episodes;
and that the description and the command line win over every rule."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from retro.game import Game

from cli_helpers import GAMES, run_main
from retro_gamer.game.check import check_game
from retro_gamer.game.loading import load_game, new_game
from retro_gamer.game.view_choice import (
    Player, choose_view, find_players, the_player, window_radius)
from retro_gamer.run.config_file import read_config
from retro_gamer.game.environment import RandomGames, random_games
from retro_gamer.run.folder import choose_episodes, game_settings, learning_rate_decay_for

ROOT = Path(__file__).parent.parent


def players_of(spec):
    return find_players(new_game(load_game(str(spec))))


# --- the player --------------------------------------------------------------------------

@pytest.mark.parametrize("spec, name", [
    ("retro.examples.snake", "Snake head"), ("retro.examples.nav", "ship"), ("retro.examples.beast", "player"),
    (GAMES / "catch", "paddle"), (GAMES / "walker.py", "walker"), (GAMES / "goal", "walker"),
    (GAMES / "gather", "gatherer")])
def test_the_player_is_the_one_agent_with_handle_keystroke(spec, name):
    assert the_player(players_of(spec)) == name


class Walker:
    character = "@"

    def __init__(self, name, position):
        self.name, self.position = name, position

    def handle_keystroke(self, keystroke, game):
        pass


def test_no_player_without_a_keystroke_agent_or_with_two():
    assert players_of(GAMES / "endless.py") == []
    assert the_player(players_of(GAMES / "endless.py")) is None
    two = Game([Walker("left", (0, 0)), Walker("right", (1, 0))], {"score": 0}, board_size=(4, 1))
    assert the_player(find_players(two)) is None
    assert the_player([Player(None, "Paddle")]) is None


def test_without_a_player_the_whole_board_is_seen_and_the_summary_says_why():
    two = [Player("left", "Walker"), Player("right", "Walker")]
    choice = choose_view({}, {}, two, (20, 20))
    assert not choice.egocentric and choice.egocentric_radius == 2 and choice.conv_channels == [16, 32]
    assert choice.view_line() == ("the whole 20x20 board (2 agents have a handle_keystroke method; "
                                  "set egocentric_player to follow one of them)")
    nobody = choose_view({}, {}, [], (20, 20))
    assert "no agent has a handle_keystroke method" in nobody.view_line()


# --- the window ----------------------------------------------------------------------------

@pytest.mark.parametrize("board_size, radius", [
    ((5, 6), 5), ((12, 3), 11), ((1, 1), 1), ((13, 4), 3), ((25, 25), 3), ((40, 20), 3)])
def test_the_radius_shows_a_small_board_whole_and_a_large_one_through_a_7x7_window(board_size, radius):
    assert window_radius(board_size) == radius
    # the window is centred on the player: radius longer side - 1 reaches every cell from a corner
    if max(board_size) <= 12:
        assert radius >= max(board_size) - 1


def test_a_spatial_window_gets_one_small_convolution_and_an_mlp_keeps_the_table():
    ship = [Player("ship", "Spaceship")]
    spatial = choose_view({"spatial": True}, {}, ship, (25, 25))
    assert spatial.settings() == {"board": True, "spatial": True, "egocentric": True, "egocentric_player": "ship",
                                  "egocentric_radius": 3, "conv_channels": [8]}
    assert spatial.view_line() == ("a 7x7 window around 'ship' (the agent that gets the keys; "
                                   "a 25x25 board is too big to see whole)")
    assert spatial.network_line() == ("CNN, one 3x3 layer of 8 channels over the window "
                                      "(spatial = true in the game's description)")
    assert choose_view({}, {}, ship, (25, 25)).conv_channels == [16, 32]
    # a view the description picks itself keeps the table's convolutions (tutorial 2's Snake CNN)
    picked = choose_view({"spatial": True, "egocentric": True, "egocentric_player": "ship"}, {}, ship, (25, 25))
    assert picked.conv_channels == [16, 32] and not picked.chosen
    # and so does a whole board read by a CNN
    assert choose_view({"spatial": True}, {}, [], (25, 25)).conv_channels == [16, 32]


def test_the_description_and_the_command_line_win_over_every_rule():
    ship = [Player("ship", "Spaceship")]
    described = choose_view({"egocentric": True, "egocentric_player": "Snake head", "egocentric_radius": 2},
                            {}, [Player("Snake head", "SnakeHead")], (32, 16))
    assert described.settings()["egocentric_radius"] == 2 and not described.chosen
    assert described.view_line() == "a 5x5 window around 'Snake head' (egocentric = true in the game's description)"
    options = choose_view({"spatial": True}, {"egocentric_radius": 5, "conv_channels": [4, 4]}, ship, (25, 25))
    assert options.egocentric and options.egocentric_radius == 5 and options.conv_channels == [4, 4]
    assert "egocentric_radius = 5 on the command line" in options.view_line()
    assert options.network_line() == ("CNN, 2 3x3 layers of 4, 4 channels over the window "
                                      "(spatial = true in the game's description, conv_channels on the command line)")
    off = choose_view({"spatial": True}, {"egocentric": False}, ship, (25, 25))
    assert not off.egocentric and off.conv_channels == [16, 32]
    assert off.view_line() == "the whole 25x25 board (egocentric = false on the command line)"
    assert not choose_view({}, {"board": False}, ship, (25, 25)).egocentric


# --- the episodes ----------------------------------------------------------------------------

def every_turn(mean_length):
    return RandomGames(mean_length, rewarded_share=1.0)


def now_and_then(mean_length, share=0.02):
    return RandomGames(mean_length, rewarded_share=share)


def test_a_game_rewarded_every_turn_is_cut_at_20_random_games_and_trains_60000_turns_at_most_700():
    chosen, lines = choose_episodes(every_turn(162.3))
    assert chosen == {"max_turns_per_episode": 3300, "training_episodes": 400, "learning_rate_decay": 0.995}
    assert [label for label, _ in lines] == ["max_turns", "episodes", "lr_decay"]
    assert "20 x the 162 turns" in lines[0][1] and "rewarded on 100% of its turns: the score grows" in lines[0][1]
    assert "falls to 13.5% of its start by episode 400" in lines[-1][1]
    assert choose_episodes(every_turn(2.0))[0] == {"max_turns_per_episode": 100, "training_episodes": 700,
                                                   "learning_rate_decay": 0.9971}
    assert choose_episodes(every_turn(2000.0))[0] == {"max_turns_per_episode": 5000, "training_episodes": 100,
                                                      "learning_rate_decay": 0.9802}
    assert choose_episodes(every_turn(40.0), episodes_given=True)[0] == {"max_turns_per_episode": 800}
    assert choose_episodes(every_turn(40.0), decay_given=True)[0] == {"max_turns_per_episode": 800,
                                                                      "training_episodes": 700}


def test_a_game_rewarded_now_and_then_is_cut_at_8_random_games():
    chosen, lines = choose_episodes(now_and_then(59.5, share=0.017))
    assert chosen == {"max_turns_per_episode": 500, "training_episodes": 700, "learning_rate_decay": 0.9971}
    assert "8 x the 60 turns" in lines[0][1] and "rewarded on 2% of its turns: its score comes from events" in lines[0][1]
    assert "rewarded on under 1% of its turns" in choose_episodes(now_and_then(40.0, share=0.004))[1][0][1]
    # the share decides at one half, both ways
    assert choose_episodes(now_and_then(100.0, share=0.49))[0]["max_turns_per_episode"] == 800
    assert choose_episodes(now_and_then(100.0, share=0.5))[0]["max_turns_per_episode"] == 2000


def test_random_games_measure_how_often_random_play_is_rewarded():
    import random
    import numpy as np
    nav = load_game("retro.examples.nav")
    random.seed(0)
    measured = random_games(nav.factory, nav.description["actions"], "score", 600, np.random.default_rng(0))
    assert measured.rewarded_share > 0.9        # the score rises every turn the ship lives
    beast = load_game("retro.examples.beast")
    random.seed(0)
    measured = random_games(beast.factory, beast.description["actions"], "score", 600, np.random.default_rng(0))
    assert 0 < measured.rewarded_share < 0.1    # a death, now and then a crushed beast
    assert 20 < measured.mean_length < 200


@pytest.mark.parametrize("episodes", [100, 400, 1000, 700])
def test_the_chosen_decay_takes_the_learning_rate_to_about_e_to_the_minus_2(episodes):
    decay = learning_rate_decay_for(episodes)
    assert 0 < decay < 1
    assert decay ** episodes == pytest.approx(math.exp(-2), rel=0.05)


def test_create_measures_random_games_of_a_fast_game():
    # catch: every game lasts 50 turns, rewarded on a fifth of them: 8 x 50 = 400, and
    # 60,000 / 50 = 1200, at most 700
    settings = game_settings(load_game(str(GAMES / "catch")), {}).settings
    assert settings.max_turns_per_episode == 400 and settings.training_episodes == 700
    # walker: 30 turns a game, rewarded on two thirds of them: 20 x 30 = 600
    settings = game_settings(load_game(str(GAMES / "walker.py")), {}).settings
    assert settings.max_turns_per_episode == 600 and settings.training_episodes == 700
    # gather: 150 turns a game, rewarded now and then: 1200 and 400
    settings = game_settings(load_game(str(GAMES / "gather")), {}).settings
    assert settings.max_turns_per_episode == 1200 and settings.training_episodes == 400
    assert settings.egocentric and settings.egocentric_radius == 3


def test_a_given_cap_or_episode_count_is_kept():
    gather = load_game(str(GAMES / "gather"))
    kept = game_settings(gather, {"max_turns_per_episode": 77}).settings
    assert kept.max_turns_per_episode == 77 and kept.training_episodes == 1000
    assert kept.learning_rate_decay == 1.0   # the schedule is chosen with the episodes only
    episodes = game_settings(gather, {"training_episodes": 33}).settings
    assert episodes.max_turns_per_episode == 1200 and episodes.training_episodes == 33
    assert episodes.learning_rate_decay == 1.0
    decay = game_settings(gather, {"learning_rate_decay": 0.9}).settings
    assert decay.training_episodes == 400 and decay.learning_rate_decay == 0.9
    snake = game_settings(load_game("retro.examples.snake"), {}).settings
    assert snake.max_turns_per_episode == 5000 and snake.training_episodes == 1000
    assert snake.learning_rate_decay == 1.0


# --- create and check say the same --------------------------------------------------------

def test_create_says_what_it_chose_and_why(tmp_path):
    code, out, _ = run_main(["create", "--game", "retro.examples.nav", "--output", str(tmp_path / "nav")])
    assert code == 0
    lines = out.splitlines()
    assert lines[-5:] == [
        "  view        : a 7x7 window around 'ship' (the agent that gets the keys; "
        "a 25x25 board is too big to see whole)",
        "  network     : CNN, one 3x3 layer of 8 channels over the window (spatial = true in the game's description)",
        lines[-3], lines[-2], lines[-1]]
    assert lines[-3].startswith("  max_turns   : ") and "x the" in lines[-3]
    assert lines[-2].startswith("  episodes    : 400 (about 60,000 turns of")
    assert lines[-1].startswith("  lr_decay    : 0.995 an episode (the learning rate falls to 13.5%")
    settings = read_config(tmp_path / "nav")
    assert settings.egocentric_player == "ship" and settings.conv_channels == [8]
    assert settings.training_episodes == 400 and settings.learning_rate_decay == 0.995


def test_check_reports_the_view_create_chose(tmp_path):
    for game in ("retro.examples.nav", str(GAMES / "gather"), "retro.examples.snake"):
        name = Path(game).name
        code, out, _ = run_main(["create", "--game", game, "--output", str(tmp_path / name)])
        created = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in out.splitlines()[1:]}
        facts = dict(check_game(game, episodes=1).facts)
        if "view" in created:
            assert facts["view"] == created["view"] and facts["network"] == created["network"]
        else:  # Snake: the description chose the view, and check says so
            assert facts["view"] == "a 5x5 window around 'Snake head' (egocentric = true in the game's description)"


SNAKE_CONFIG = ROOT / "tests" / "snake_config.toml"


def test_snakes_default_config_is_unchanged(tmp_path):
    """The default Snake run (docs/results.md) is what it was before create chose anything:
    tests/snake_config.toml was written by create before issue #22. (A help string changed on
    purpose changes its comments: then write the file again, and check that only comments changed.)"""
    result = subprocess.run(
        [sys.executable, "-m", "retro_gamer", "create", "--game", "retro.examples.snake", "--output", "snake",
         "--seed", "0"], cwd=tmp_path, capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "snake" / "config.toml").read_bytes() == SNAKE_CONFIG.read_bytes()
