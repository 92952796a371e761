"""The environment: reset/step on real games, rewards, crashes, discovery."""

import random
from pathlib import Path

import numpy as np
import pytest

from retro.views.headless import HeadlessView

from retro_gamer.game.environment import Environment, discover_characters, top_agent
from retro_gamer.errors import GameCrashed, GameError
from retro_gamer.game.loading import load_game

GAMES = Path(__file__).parent / "games"
ARROWS = ["KEY_LEFT", "KEY_RIGHT", "KEY_UP", "KEY_DOWN"]
LEFT, RIGHT, UP, DOWN, NO_OP = range(5)


def walker_environment():
    return Environment(load_game(str(GAMES / "walker.py")), ARROWS, "score")


def board_text(environment):
    return ["".join(row) for row in environment.board_characters]


def test_reset_shows_the_real_first_board():
    environment = walker_environment()
    environment.reset()
    assert board_text(environment) == [
        "     █",
        "     █",
        "  @   ",
        "      ",
    ]
    assert environment.turn == 0
    assert not environment.done


def test_actions_press_keys_and_the_last_action_is_the_no_op():
    environment = walker_environment()
    assert environment.num_actions == 5
    environment.reset()
    walker = environment.game.get_agent_by_name("walker")
    for action, position in [(RIGHT, (3, 2)), (UP, (3, 1)), (NO_OP, (3, 1)), (LEFT, (2, 1)), (DOWN, (2, 2))]:
        environment.step(action)
        assert walker.position == position
    assert board_text(environment)[2] == "  @   "
    assert environment.turn == 5


def test_reward_is_the_change_in_the_reward_key():
    environment = walker_environment()
    environment.reset()
    rewards = [environment.step(action)[0] for action in [RIGHT, LEFT, UP, NO_OP, RIGHT, RIGHT]]
    assert rewards == [2.0, -1.0, 0.0, 0.0, 2.0, 2.0]
    assert all(type(reward) is float for reward in rewards)
    assert environment.game.state["score"] == sum(rewards)


def test_done_when_the_game_ends_and_no_step_after_it():
    environment = walker_environment()
    environment.reset()
    results = [environment.step(NO_OP) for _ in range(30)]
    assert [done for _, done in results] == [False] * 29 + [True]
    assert environment.done
    with pytest.raises(RuntimeError, match="reset"):
        environment.step(NO_OP)


def test_reset_starts_a_new_game():
    environment = walker_environment()
    environment.reset()
    first_game = environment.game
    environment.step(RIGHT)
    environment.reset()
    assert environment.game is not first_game
    assert environment.turn == 0
    assert environment.step(RIGHT) == (2.0, False)


def test_action_out_of_range():
    environment = walker_environment()
    environment.reset()
    with pytest.raises(ValueError):
        environment.step(5)
    with pytest.raises(ValueError):
        environment.step(-1)


def test_snake_rewards_add_up_to_the_score():
    source = load_game("retro.examples.snake")
    environment = Environment(source, source.description["actions"], "score")
    rng = np.random.default_rng(3)
    random.seed(3)
    for _ in range(5):
        environment.reset()
        total, done = 0.0, False
        while not done:
            reward, done = environment.step(int(rng.integers(environment.num_actions)))
            assert reward in (0.0, 50.0)
            total += reward
        assert total == environment.game.state["score"]


def test_the_shaped_snake_reward_key_works_too():
    source = load_game("retro.examples.snake")
    environment = Environment(source, source.description["actions"], "reward")
    random.seed(0)
    environment.reset()
    reward, done = environment.step(4)
    assert reward in (-1.0, 1.0, 51.0)  # a step toward or away from the apple
    assert not done


def test_seeding_python_random_repeats_a_game():
    source = load_game("retro.examples.snake")

    def boards(seed):
        random.seed(seed)
        environment = Environment(source, source.description["actions"], "score")
        environment.reset()
        seen = [board_text(environment)]
        for action in [0, 1, 1, 2, 4, 4]:
            if environment.done:
                break
            environment.step(action)
            seen.append(board_text(environment))
        return seen

    assert boards(11) == boards(11)
    assert boards(11) != boards(12)


# ---------------------------------------------------------------- errors


def test_a_crash_mid_episode_names_the_turn_and_keeps_the_traceback():
    environment = Environment(load_game(str(GAMES / "crash_mid_episode.py")), ["KEY_LEFT"], "score")
    environment.reset()
    environment.step(0)
    environment.step(0)
    with pytest.raises(GameCrashed) as caught:
        environment.step(0)
    message = str(caught.value)
    assert "Traceback" not in message
    assert "turn 3" in message
    assert "ZeroDivisionError" in message
    assert "crash_mid_episode.py" in message and "in play_turn" in message
    details = caught.value.details
    assert details.startswith("Traceback")
    assert "play_turn" in details and "retro/game.py" in details
    assert "retro_gamer/game/environment.py" not in details


def test_a_crash_while_creating_the_game_at_reset():
    environment = Environment(load_game(str(GAMES / "create_game_raises.py")), ["KEY_LEFT"], "score")
    with pytest.raises(GameCrashed, match="FileNotFoundError"):
        environment.reset()


def test_a_missing_reward_key_names_the_keys_the_state_has():
    environment = Environment(load_game(str(GAMES / "missing_reward_key.py")), ["KEY_LEFT"], "score")
    with pytest.raises(GameError) as caught:
        environment.reset()
    message = str(caught.value)
    assert "'score'" in message and "not in the game's state" in message
    assert "'points'" in message and "'lives'" in message
    assert "Traceback" not in message


def test_a_reward_key_that_is_not_a_number():
    environment = Environment(load_game(str(GAMES / "text_reward.py")), ["KEY_LEFT"], "score")
    with pytest.raises(GameError) as caught:
        environment.reset()
    assert "'score'" in str(caught.value) and "not a number" in str(caught.value)
    assert "'none yet'" in str(caught.value)


# ---------------------------------------------------------------- character discovery


def test_discovery_on_walker_finds_its_two_characters():
    found = discover_characters(load_game(str(GAMES / "walker.py")), ARROWS, 40, np.random.default_rng(0))
    assert found == ["@", "█"]


def test_discovery_on_snake_finds_only_snake_characters():
    random.seed(0)
    source = load_game("retro.examples.snake")
    found = discover_characters(source, source.description["actions"], 300, np.random.default_rng(0))
    assert found == sorted(found)
    assert " " not in found
    assert "@" in found
    assert set(found) <= {"@", "*", ">", "<", "^", "v"}
    assert len(set(found) & {">", "<", "^", "v"}) >= 2


def test_discovery_on_beast_finds_its_three_characters():
    random.seed(0)
    source = load_game("retro.examples.beast")
    found = discover_characters(source, source.description["actions"], 5, np.random.default_rng(0))
    assert found == ["*", "H", "█"]


def test_discovery_is_repeatable_with_the_same_seeds():
    source = load_game("retro.examples.snake")
    random.seed(4)
    first = discover_characters(source, source.description["actions"], 100, np.random.default_rng(4))
    random.seed(4)
    second = discover_characters(source, source.description["actions"], 100, np.random.default_rng(4))
    assert first == second


def test_the_first_board_shows_agents_where_create_game_left_them():
    """Snake places its apple after retro-games cached the agents' positions: the first board must not show the stale cache."""
    for seed in range(20):
        random.seed(seed)
        environment = Environment(load_game("retro.examples.snake").factory, ["KEY_UP"], "score")
        environment.reset()
        apple_x, apple_y = environment.game.get_agent_by_name("Apple").position
        apples = [(x, y) for y, row in enumerate(environment.board_characters)
                  for x, character in enumerate(row) if character == "@"]
        assert apples == [(apple_x, apple_y)]


# ---------------------------------------------------------------- BoardView against retro's HeadlessView


@pytest.mark.parametrize("game_spec", ["retro.examples.snake", "retro.examples.nav", "retro.examples.beast",
                                       str(GAMES / "walker.py"), str(GAMES / "layered.py")])
def test_board_view_draws_what_retros_headless_view_draws(game_spec):
    """Same game, same turns: our drawn cells give exactly HeadlessView's rows."""
    source = load_game(game_spec)
    actions = source.description.get("actions", ARROWS)
    environment = Environment(source, actions, None)
    rng = np.random.default_rng(0)
    random.seed(0)
    headless = HeadlessView()
    compared = 0
    while compared < 300:
        environment.reset()
        while not environment.done and environment.turn < 150:
            headless.render(environment.game)
            assert environment.board_characters == headless.board_characters
            occupied = {(x, y) for x, y, _ in environment.drawn_cells}
            assert len(occupied) == len(environment.drawn_cells)  # each cell listed once
            compared += 1
            environment.step(int(rng.integers(environment.num_actions)))


def test_top_agent_is_the_highest_z_and_the_first_of_equals():
    class Agent:
        def __init__(self, z=None):
            if z is not None:
                self.z = z

    low, first_high, second_high, without_z = Agent(1), Agent(5), Agent(5), Agent()
    assert top_agent([low, first_high, second_high]) is first_high
    assert top_agent([second_high, low, first_high]) is second_high
    assert top_agent([without_z, low]) is low, "an agent without z stands at 0"
    assert top_agent([without_z]) is without_z


def test_the_top_agent_by_z_is_drawn_and_big_agents_fill_their_cells():
    environment = Environment(load_game(str(GAMES / "layered.py")), ARROWS, "score")
    environment.reset()
    assert board_text(environment) == [
        "@     ",
        " #=   ",
        " %    ",
        "    ~ ",
        "      ",
    ]
    for action in [DOWN, RIGHT, RIGHT]:  # onto the crate's '=' cell
        environment.step(action)
    assert board_text(environment)[1] == " #@   "
    cells = {(x, y): character for x, y, character in environment.drawn_cells}
    assert cells[(3, 2)] == " " and cells[(3, 1)] == " "  # crate cells without a character
