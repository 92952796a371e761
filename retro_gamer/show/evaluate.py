"""Has the agent learned anything? Measure the greedy policy against random play.

``retro-gamer evaluate RUN_DIR`` lets the greedy policy of a checkpoint,

    a = argmax_a Q(s, a)        (ties go to the first action: repeatable),

play N headless games, then lets a uniformly random policy (every action,
the no-op included, with probability 1 / num_actions) play N games too, and
prints, for both, the mean, median, minimum and maximum of

- the total reward of a game, sum over its turns of r_t (the change of the
  reward key),
- the length of a game in turns (capped at ``max_turns_per_episode``, as in
  training),
- the game's own ``score`` at the end (when its state has one).

The training log's ``avg_reward`` is measured while exploring (epsilon > 0)
and while the network changes; this is the trained policy on its own.
Random play is the floor: a policy that does not clearly beat it has not
learned yet.

Both policies face the same games: before game i the random generators
(Python's ``random``, which retro games use, and numpy's) are seeded with
``(seed * 1000003 + i) mod 2**32``. So two evaluations with the same seed print the same numbers,
and a difference between two policies or two checkpoints comes from the
policies, not from luckier games.

``--all-checkpoints`` evaluates every checkpoint of the run, one table row
each, so the growth of skill can be read top to bottom.
"""

import random
import sys
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from retro_gamer.game.environment import Environment
from retro_gamer.errors import CheckpointError, ConfigError
from retro_gamer.show.policy import list_checkpoints, load_policy


@dataclass
class EpisodeStats:
    """What N games of one policy produced, one value per game."""

    rewards: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # empty when the game has no score


@dataclass
class Summary:
    """Mean, median, minimum and maximum of one measure over the games."""

    mean: float
    median: float
    minimum: float
    maximum: float


def summarize(values) -> Summary:
    """The four numbers the table shows for one list of per-game values."""
    values = np.asarray(values, dtype=np.float64)
    return Summary(float(values.mean()), float(np.median(values)),
                   float(values.min()), float(values.max()))


# ---------------------------------------------------------------------------
# Playing games
# ---------------------------------------------------------------------------


def seed_game(seed: int, game_index: int) -> None:
    """Seed Python's and numpy's global generators for game ``game_index``.

    Retro games draw their randomness (a start position, where the apple
    goes) from these, so game i starts the same for every policy.
    """
    game_seed = (seed * 1_000_003 + game_index) % 2**32
    random.seed(game_seed)
    np.random.seed(game_seed)


def final_score(game):
    """The game's ``score`` state value as a number, or None if it has none."""
    score = game.state.get("score") if hasattr(game.state, "get") else None
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        return float(score)
    return None


def evaluate_policy(choose_action, factory, actions, reward_key, observer, episodes: int,
                    max_turns: int, seed: int, progress_bar=None) -> EpisodeStats:
    """Play ``episodes`` headless games; ``choose_action(board_codes, state_values)`` picks each move.

    A game ends when the game says so or after ``max_turns`` turns. The
    optional ``progress_bar`` (tqdm) advances by one per game.
    """
    environment = Environment(factory, actions, reward_key)
    stats = EpisodeStats()
    for game_index in range(episodes):
        seed_game(seed, game_index)
        environment.reset()
        observer.start_episode(environment.game)
        total_reward, turns, done = 0.0, 0, False
        while not done and turns < max_turns:
            board_codes, state_values = observer.encode(environment.game, environment.drawn_cells)
            reward, done = environment.step(choose_action(board_codes, state_values))
            total_reward += reward
            turns += 1
        stats.rewards.append(total_reward)
        stats.lengths.append(turns)
        score = final_score(environment.game)
        if score is not None:
            stats.scores.append(score)
        if progress_bar is not None:
            progress_bar.update(1)
    return stats


def random_policy(num_actions: int, seed: int):
    """A choose_action that ignores the board and picks uniformly among all actions."""
    generator = np.random.default_rng(seed)

    def choose_action(board_codes, state_values):
        return int(generator.integers(num_actions))

    return choose_action


def evaluate_random(policy, episodes: int, seed: int, progress_bar=None) -> EpisodeStats:
    """The random baseline on the same games the trained ``policy`` plays."""
    return evaluate_policy(
        random_policy(len(policy.actions) + 1, seed), policy.source.factory, policy.actions,
        policy.reward_key, policy.observer, episodes, policy.max_turns, seed, progress_bar)


def evaluate_greedy(policy, episodes: int, seed: int, progress_bar=None) -> EpisodeStats:
    """The trained ``policy``, always taking its best-scored action."""
    return evaluate_policy(
        policy.greedy_action, policy.source.factory, policy.actions, policy.reward_key,
        policy.observer, episodes, policy.max_turns, seed, progress_bar)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def format_number(value: float) -> str:
    """One decimal, like the training log's averages."""
    return f"{value:.1f}"


def column_widths(rows: list[list[str]]) -> list[int]:
    """The width of each column: its longest cell."""
    return [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]


def format_table(rows: list[list[str]]) -> list[str]:
    """Left-align the first column, right-align the others, two spaces between columns."""
    widths = column_widths(rows)
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return lines


def measures(stats: EpisodeStats) -> dict:
    """{row name: per-game values} for the measures this game has."""
    rows = {"total reward": stats.rewards, "episode length": stats.lengths}
    if stats.scores:
        rows["score"] = stats.scores
    return rows


def summary_cells(values) -> list[str]:
    """Mean, median, min and max of the values, formatted for a table."""
    summary = summarize(values)
    return [format_number(number)
            for number in (summary.mean, summary.median, summary.minimum, summary.maximum)]


def comparison_lines(policy_name: str, greedy: EpisodeStats, baseline: EpisodeStats) -> list[str]:
    """The greedy and the random statistics side by side, one row per measure.

    Each side has four columns (mean, median, min, max) under its name; an
    empty column between the sides widens the gap.
    """
    statistics = ["mean", "median", "min", "max"]
    rows = [[""] + statistics + [""] + statistics]
    baseline_measures = measures(baseline)
    for name, values in measures(greedy).items():
        rows.append([name] + summary_cells(values) + [""] + summary_cells(baseline_measures[name]))
    widths = column_widths(rows)
    greedy_width = sum(widths[1:5]) + 2 * 3
    random_width = sum(widths[6:]) + 2 * 3
    names_line = (" " * widths[0] + "  " + policy_name.center(greedy_width) + "    "
                  + "random".center(random_width))
    difference = np.mean(greedy.rewards) - np.mean(baseline.rewards)
    return ([names_line.rstrip()] + format_table(rows)
            + ["", f"mean total reward, greedy minus random: {difference:+.1f}"])


def checkpoint_rows_lines(rows: list[tuple[str, EpisodeStats]]) -> list[str]:
    """One row per policy: mean total reward, mean length, mean score."""
    has_score = all(stats.scores for _, stats in rows)
    header = ["checkpoint", "mean reward", "mean length"] + (["mean score"] if has_score else [])
    table = [header]
    for name, stats in rows:
        means = [np.mean(stats.rewards), np.mean(stats.lengths)]
        if has_score:
            means.append(np.mean(stats.scores))
        table.append([name] + [format_number(value) for value in means])
    return format_table(table)


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def command_evaluate(run_dir, checkpoint, episodes, seed, all_checkpoints,
                     stream=None, record_best=None, record_worst=None, size=None) -> int:
    """``retro-gamer evaluate``: print the greedy policy's statistics beside random play's.

    ``record_best`` / ``record_worst``: files for asciicast recordings of the
    greedy games with the highest / lowest total reward (``recording.py``),
    ``size`` their (columns, lines) (default: just big enough).
    """
    stream = stream or sys.stdout
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, not {episodes}")
    if checkpoint is not None and all_checkpoints:
        raise ConfigError("give either --checkpoint or --all-checkpoints, not both")
    targets = {which: path for which, path in (("best", record_best), ("worst", record_worst))
               if path is not None}
    if targets or size is not None:
        from retro_gamer.show.recording import check_recording_options

        check_recording_options(targets, size, all_checkpoints)
    if all_checkpoints:
        lines = evaluate_every_checkpoint(run_dir, episodes, seed)
    else:
        lines = evaluate_one_checkpoint(run_dir, checkpoint, episodes, seed, targets, size)
    print("\n".join(lines), file=stream)
    return 0


def make_progress_bar(total: int, description: str):
    """A tqdm bar on stderr, shown only when stderr is a terminal."""
    return tqdm(total=total, desc=description, unit="game", file=sys.stderr,
                disable=not sys.stderr.isatty(), leave=False)


def evaluate_one_checkpoint(run_dir, checkpoint, episodes: int, seed: int, targets=None,
                            size=None) -> list[str]:
    """The lines of the greedy-against-random table for one checkpoint (default: the latest).

    ``targets`` ({"best": path, "worst": path}, either or both) records those
    greedy games too, and adds a line for each.
    """
    policy = load_policy(run_dir, checkpoint)
    with make_progress_bar(2 * episodes, f"evaluating {policy.checkpoint_name}") as progress_bar:
        greedy = evaluate_greedy(policy, episodes, seed, progress_bar)
        baseline = evaluate_random(policy, episodes, seed, progress_bar)
    title = (f"{policy.checkpoint_name} (greedy) against random play: {episodes} games each, "
             f"seed {seed}, at most {policy.max_turns} turns a game")
    lines = [title, ""] + comparison_lines(f"{policy.checkpoint_name} (greedy)", greedy, baseline)
    if targets:
        from retro_gamer.show.recording import record_extreme_games

        lines += record_extreme_games(policy, greedy, seed, targets, size)
    return lines


def evaluate_every_checkpoint(run_dir, episodes: int, seed: int) -> list[str]:
    """The lines of the one-row-per-checkpoint table, random play first."""
    paths = list_checkpoints(run_dir)
    if not paths:
        raise CheckpointError(
            f"{run_dir} has no checkpoints yet: run 'retro-gamer train {run_dir}' first")
    rows = []
    with make_progress_bar((len(paths) + 1) * episodes, "evaluating") as progress_bar:
        for path in paths:
            policy = load_policy(run_dir, path.stem)
            progress_bar.set_description(f"evaluating {policy.checkpoint_name}")
            rows.append((policy.checkpoint_name, evaluate_greedy(policy, episodes, seed, progress_bar)))
        progress_bar.set_description("evaluating random play")
        rows.insert(0, ("random", evaluate_random(policy, episodes, seed, progress_bar)))
    title = (f"every checkpoint of {run_dir} (greedy) and random play: {episodes} games each, "
             f"seed {seed}, at most {policy.max_turns} turns a game")
    return [title, ""] + checkpoint_rows_lines(rows)
