"""The Gymnasium environment: Gymnasium's own checker, and the same episodes as ours.

Skipped when Gymnasium is not installed (``pip install 'retro-gamer[gym]'``;
the ``test`` extra installs it).
"""

import random
import warnings

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402

from cli_helpers import GAMES, run_main  # noqa: E402
from retro_gamer import gym_env  # noqa: E402
from retro_gamer.game.environment import Environment  # noqa: E402
from retro_gamer.game.observation import make_observer  # noqa: E402

EXAMPLES = ["retro.examples.snake", "retro.examples.nav", "retro.examples.beast"]
# check_env's advice about a Box without finite bounds: observed state values have none.
INFINITE_BOUNDS = "observation space m"


@pytest.mark.parametrize("game", EXAMPLES)
def test_gymnasium_check_env_passes(game):
    env = gymnasium.make(gym_env.ENV_ID, game=game, render_mode="ansi")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    others = [str(warning.message) for warning in caught if INFINITE_BOUNDS not in str(warning.message)]
    assert others == []


def test_make_imports_the_module_by_itself_and_the_spaces_are_what_our_agent_sees():
    env = gymnasium.make("retro_gamer.gym_env:retro-gamer/RetroGame-v0", game="retro.examples.snake")
    board, state = env.observation_space["board"], env.observation_space["state"]
    # Snake's 5 x 5 window; codes 0 (empty), 1..6 its characters, 7 the edge
    assert (board.shape, board.dtype, int(board.high.max())) == ((5, 5), np.uint8, 7)
    assert (state.shape, state.dtype) == ((2,), np.float32)
    assert env.action_space.n == 5
    observation, info = env.reset(seed=0)
    assert observation in env.observation_space and info == {"turn": 0}


def play_ours(game, seed, actions, settings_overrides=None):
    """One episode in our trainer's own Environment and Observer after random.seed(seed)."""
    source, settings = gym_env.load_settings(game, settings_overrides)
    environment = Environment(source.factory, settings.actions, settings.reward)
    observer = make_observer(settings)
    random.seed(seed)
    environment.reset()
    observer.start_episode(environment.game)
    frames = [observer.encode(environment.game, environment.drawn_cells)]
    rewards, done = [], False
    for action in actions:
        reward, done = environment.step(action)
        frames.append(observer.encode(environment.game, environment.drawn_cells))
        rewards.append(reward)
        if done:
            break
    return frames, rewards, done


def play_gym(env, seed, actions):
    observation, _ = env.reset(seed=seed)
    frames, rewards, terminated = [observation], [], False
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        frames.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            break
    return frames, rewards, terminated


@pytest.mark.parametrize("game", EXAMPLES)
def test_an_episode_through_gymnasium_is_the_episode_of_our_environment(game):
    env = gym_env.RetroGameEnv(game)
    actions = np.random.default_rng(7).integers(env.action_space.n, size=300).tolist()
    random.seed(12345)  # the caller's own random: the environment neither uses nor disturbs it
    outside = random.getstate()
    gym_frames, gym_rewards, terminated = play_gym(env, 11, actions)
    assert random.getstate() == outside
    our_frames, our_rewards, done = play_ours(game, 11, actions)
    assert gym_rewards == our_rewards and terminated == done
    assert len(gym_frames) == len(our_frames) > 1
    for observation, (board_codes, state_values) in zip(gym_frames, our_frames):
        np.testing.assert_array_equal(observation["board"], board_codes)
        if "state" in observation:
            np.testing.assert_array_equal(observation["state"], state_values)
    assert sum(our_rewards) != 0 or game == "retro.examples.snake"


def test_the_turn_budget_truncates_and_the_game_ending_terminates(tmp_path):
    env = gym_env.RetroGameEnv(str(GAMES / "endless.py"), settings={"max_turns_per_episode": 3})
    env.reset(seed=0)
    results = [env.step(0)[2:4] for _ in range(3)]
    assert results == [(False, False), (False, False), (False, True)]
    walker = gym_env.RetroGameEnv(str(GAMES / "walker.py"))  # ends by itself after 30 turns
    walker.reset(seed=0)
    ends = [walker.step(2)[2:4] for _ in range(30)]
    assert ends[-1] == (True, False) and all(end == (False, False) for end in ends[:-1])


def test_one_hot_boards_are_the_planes_of_the_codes():
    codes = gym_env.RetroGameEnv("retro.examples.nav")
    planes = gym_env.RetroGameEnv("retro.examples.nav", board_encoding="one_hot")
    # create's view of nav: a 7x7 window around the ship; '^', 'O' and the edge are codes 1 to 3
    assert planes.observation_space["board"].shape == (3, 7, 7)
    board = codes.reset(seed=3)[0]["board"]
    one_hot = planes.reset(seed=3)[0]["board"]
    for code in (1, 2, 3):
        np.testing.assert_array_equal(one_hot[code - 1], (board == code).astype(np.uint8))
    assert one_hot.sum() == np.count_nonzero(board)


def test_a_run_folder_and_ansi_render(tmp_path):
    run = tmp_path / "run"
    assert run_main(["create", "--game", GAMES / "catch", "--output", run, "--max-turns-per-episode", "7"])[0] == 0
    env = gymnasium.make(gym_env.ENV_ID, game=str(run), render_mode="ansi")
    env.reset(seed=0)
    assert env.unwrapped.max_turns == 7
    text = env.render()
    assert text.startswith("+---") and "score: 0" in text
    assert "=" in text  # the paddle


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="render_mode"):
        gym_env.RetroGameEnv("retro.examples.nav", render_mode="human")
    with pytest.raises(ValueError, match="board_encoding"):
        gym_env.RetroGameEnv("retro.examples.nav", board_encoding="pixels")
