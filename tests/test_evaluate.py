"""`retro-gamer evaluate`: the greedy policy against random play, on the same seeded games."""

import io
import statistics
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from retro_gamer.show import evaluate
from retro_gamer.game.environment import Environment
from retro_gamer.errors import CheckpointError, ConfigError
from retro_gamer.game.loading import load_game
from retro_gamer.game.observation import Observer

CATCH_FOLDER = Path(__file__).parent / "games" / "catch"
CATCH = load_game(str(CATCH_FOLDER))
ACTIONS = CATCH.description["actions"]            # ["KEY_LEFT", "KEY_RIGHT"], then the no-op
NO_OP = len(ACTIONS)
PADDLE_CODE, BALL_CODE = 1, 2                      # codes of "=" and "o" in the character set
MAX_TURNS = 100                                    # a game of Catch lasts 10 balls x 5 turns


def make_observer():
    return Observer(CATCH.description["character_set"], (5, 6))


def follow_ball(board_codes, state_values):
    """A hand-written 'trained' policy: keep the paddle under the ball."""
    ball_x = np.argwhere(board_codes == BALL_CODE)[0][1]
    paddle_x = np.argwhere(board_codes == PADDLE_CODE)[0][1]
    if ball_x < paddle_x:
        return ACTIONS.index("KEY_LEFT")
    if ball_x > paddle_x:
        return ACTIONS.index("KEY_RIGHT")
    return NO_OP


def play(choose_action, episodes=8, seed=0, max_turns=MAX_TURNS):
    return evaluate.evaluate_policy(choose_action, CATCH.factory, ACTIONS, "score", make_observer(),
                                    episodes, max_turns, seed)


def test_same_seed_same_games_and_numbers():
    first = play(evaluate.random_policy(NO_OP + 1, seed=3), seed=3)
    second = play(evaluate.random_policy(NO_OP + 1, seed=3), seed=3)
    assert first == second
    other = play(evaluate.random_policy(NO_OP + 1, seed=4), seed=4)
    assert (other.rewards, other.lengths) != (first.rewards, first.lengths)


def test_random_baseline_matches_a_direct_computation():
    episodes, seed = 10, 7
    stats = play(evaluate.random_policy(NO_OP + 1, seed), episodes=episodes, seed=seed)

    # The same games, played here step by step without evaluate_policy.
    generator = np.random.default_rng(seed)
    environment = Environment(CATCH.factory, ACTIONS, "score")
    rewards, lengths, scores = [], [], []
    for game_index in range(episodes):
        evaluate.seed_game(seed, game_index)
        environment.reset()
        total, turns = 0.0, 0
        while turns < MAX_TURNS:
            reward, done = environment.step(int(generator.integers(len(ACTIONS) + 1)))
            total, turns = total + reward, turns + 1
            if done:
                break
        rewards.append(total)
        lengths.append(turns)
        scores.append(environment.game.state["score"])
    assert stats.rewards == rewards
    assert stats.lengths == lengths
    assert stats.scores == scores

    summary = evaluate.summarize(stats.lengths)
    assert summary.mean == pytest.approx(statistics.mean(lengths))
    assert summary.median == pytest.approx(statistics.median(lengths))
    assert (summary.minimum, summary.maximum) == (min(lengths), max(lengths))


def test_every_policy_meets_the_same_games():
    def balls_seen(choose_action):
        """Where the ball is at every turn; in Catch the ball ignores the paddle's moves."""
        positions = []

        def recording(board_codes, state_values):
            positions.append(tuple(np.argwhere(board_codes == BALL_CODE)[0]))
            return choose_action(board_codes, state_values)

        play(recording, episodes=5, seed=11)
        return positions

    assert balls_seen(follow_ball) == balls_seen(evaluate.random_policy(NO_OP + 1, 11))


def test_games_are_capped_at_max_turns():
    assert play(follow_ball, episodes=3, max_turns=7).lengths == [7, 7, 7]
    assert play(follow_ball, episodes=3).lengths == [50, 50, 50]


def test_following_the_ball_catches_every_ball():
    stats = play(follow_ball, episodes=5)
    assert stats.rewards == [10.0] * 5 and stats.scores == [10.0] * 5


# ---------------------------------------------------------------------------
# The command, with a stand-in for a loaded checkpoint
# ---------------------------------------------------------------------------


def stand_in_policy(name="ep_0100", choose_action=follow_ball):
    return SimpleNamespace(
        checkpoint_name=name, episode=int(name[3:]), source=CATCH,
        actions=ACTIONS, reward_key="score", observer=make_observer(), max_turns=MAX_TURNS,
        greedy_action=choose_action)


@pytest.fixture
def stand_in_run(monkeypatch):
    names = ["ep_0100", "ep_0200"]
    skills = {"ep_0100": lambda board_codes, state_values: NO_OP, "ep_0200": follow_ball}

    def load_policy(run_dir, checkpoint=None):
        name = checkpoint or names[-1]
        return stand_in_policy(name, skills[name])

    monkeypatch.setattr(evaluate, "load_policy", load_policy)
    monkeypatch.setattr(evaluate, "list_checkpoints",
                        lambda run_dir: [Path(run_dir) / "checkpoints" / f"{n}.npz" for n in names])
    return "runs/catch"


def run_command(run_dir, checkpoint=None, episodes=6, seed=0, all_checkpoints=False):
    stream = io.StringIO()
    assert evaluate.command_evaluate(run_dir, checkpoint, episodes, seed, all_checkpoints,
                                     stream=stream) == 0
    return stream.getvalue()


def table_row(text, name):
    return next(line.split()[len(name.split()):] for line in text.splitlines()
                if line.startswith(name))


def test_command_prints_greedy_and_random_side_by_side(stand_in_run):
    text = run_command(stand_in_run)
    assert "ep_0200 (greedy)" in text and "random" in text
    assert text.count("mean  median") == 2
    reward = [float(cell) for cell in table_row(text, "total reward")]
    assert len(reward) == 8  # mean, median, min, max for each side
    greedy_mean, random_mean = reward[0], reward[4]
    assert greedy_mean > random_mean
    assert f"greedy minus random: {greedy_mean - random_mean:+.1f}" in text
    assert len(table_row(text, "episode length")) == 8
    assert len(table_row(text, "score")) == 8


def test_command_output_is_repeatable_and_follows_the_seed(stand_in_run):
    assert run_command(stand_in_run, seed=5) == run_command(stand_in_run, seed=5)
    assert run_command(stand_in_run, seed=5) != run_command(stand_in_run, seed=6)


def test_all_checkpoints_gives_one_row_each_after_random(stand_in_run):
    text = run_command(stand_in_run, all_checkpoints=True)
    lines = text.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("checkpoint"))
    assert lines[header].split() == ["checkpoint", "mean", "reward", "mean", "length", "mean", "score"]
    names = [line.split()[0] for line in lines[header + 1:]]
    assert names == ["random", "ep_0100", "ep_0200"]
    means = {line.split()[0]: float(line.split()[1]) for line in lines[header + 1:]}
    assert means["ep_0200"] > means["random"]
    assert means["ep_0200"] == 10.0 and means["ep_0200"] > means["ep_0100"]


def test_checkpoint_and_all_checkpoints_exclude_each_other(stand_in_run):
    with pytest.raises(ConfigError, match="not both"):
        run_command(stand_in_run, checkpoint="ep_0100", all_checkpoints=True)


def test_all_checkpoints_without_checkpoints_says_to_train(monkeypatch):
    monkeypatch.setattr(evaluate, "list_checkpoints", lambda run_dir: [])
    with pytest.raises(CheckpointError, match="retro-gamer train runs/empty"):
        run_command("runs/empty", all_checkpoints=True)


# ---------------------------------------------------------------------------
# A real run: create and train through the command line, then evaluate
# ---------------------------------------------------------------------------


def retro_gamer(*arguments, cwd):
    result = subprocess.run([sys.executable, "-m", "retro_gamer", *arguments], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_trained_checkpoint_beats_random_play(tmp_path):
    retro_gamer("create", "--game", str(CATCH_FOLDER), "--output", "run",
                "--training-episodes", "300", "--hidden-sizes", "32",
                "--learning-rate", "0.001", "--epsilon-decay", "0.98", cwd=tmp_path)
    retro_gamer("train", "run", cwd=tmp_path)
    text = retro_gamer("evaluate", "run", "--episodes", "20", cwd=tmp_path)
    assert text == retro_gamer("evaluate", "run", "--episodes", "20", cwd=tmp_path)
    reward = [float(cell) for cell in table_row(text, "total reward")]
    greedy_mean, random_mean = reward[0], reward[4]
    assert greedy_mean > random_mean + 4, text
