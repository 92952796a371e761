"""``retro-gamer evaluate SWEEP_DIR``: every variant of a sweep, over its seeds, with intervals.

Every run's checkpoint (the latest, or ``--checkpoint NAME`` in every run)
plays the same N games greedily, as ``evaluate RUN_DIR`` does; a variant's
S seeds give an S x N table of scores. Random play is the baseline row: S
random players (one generator per seed) on the same games. Each row shows
the mean, the median and the interquartile mean of the S x N scores, with
95% bootstrap intervals over seeds (``statistics.py`` explains the method),
and each seed's own mean, so the spread between seeds can be seen.

The score is the game's ``score`` when it has one, its total reward
otherwise. ``--json`` prints the same numbers, and every game's score, for
scripts.
"""

import json
import sys

import numpy as np

from retro_gamer.errors import CheckpointError, ConfigError, shown
from retro_gamer.run.sweep import read_plan, run_state
from retro_gamer.show import statistics
from retro_gamer.show.evaluate import evaluate_greedy, evaluate_policy, format_table, make_progress_bar, random_policy
from retro_gamer.show.policy import load_policy

RANDOM_ROW = "random play"


def score_table(stats_by_seed):
    """(measure name, S x N array): the games' scores if every game has one, else total rewards."""
    if all(stats.scores and len(stats.scores) == len(stats.rewards) for stats in stats_by_seed):
        return "score", np.array([stats.scores for stats in stats_by_seed], dtype=np.float64)
    return "total reward", np.array([stats.rewards for stats in stats_by_seed], dtype=np.float64)


def collect_scores(folder, checkpoint, episodes, seed, stream=sys.stderr):
    """Play every run's games: ``(plan, rows, notes)``, rows = [(variant, run labels, checkpoints, stats list)]."""
    plan = read_plan(folder)
    runs = plan.runs()
    missing = [run for run in runs if not (run.path / "config.toml").is_file()]
    if missing:
        raise ConfigError(f"{len(missing)} run(s) of the plan do not exist yet ({missing[0].label}, ...): "
                          f"run 'retro-gamer sweep update {shown(folder)}' and train them")
    states = [run_state(run) for run in runs]
    untrained = [state.run.label for state in states if state.episode == 0]
    if untrained:
        raise CheckpointError(
            f"{len(untrained)} of {len(runs)} runs have no checkpoint yet ({', '.join(untrained[:3])}"
            f"{', ...' if len(untrained) > 3 else ''}): run 'retro-gamer sweep train {shown(folder)}' first")
    notes = [f"{state.run.label} is at episode {state.episode} of {state.total}"
             for state in states if not state.done and checkpoint is None]
    rows = []
    first_policy = None
    with make_progress_bar((len(runs) + len(plan.seeds)) * episodes, "evaluating the sweep") as bar:
        for variant in plan.variants():
            variant_runs = [run for run in runs if run.variant == variant]
            stats, names = [], []
            for run in variant_runs:
                policy = load_policy(run.path, checkpoint)
                first_policy = first_policy or policy
                names.append(policy.checkpoint_name)
                stats.append(evaluate_greedy(policy, episodes, seed, bar))
            rows.append((variant.name, [run.label for run in variant_runs], names, stats))
        random_stats = []
        for training_seed in plan.seeds:
            player = random_policy(len(first_policy.actions) + 1, [seed, training_seed])
            random_stats.append(evaluate_policy(
                player, first_policy.source.factory, first_policy.actions, first_policy.reward_key,
                first_policy.observer, episodes, first_policy.max_turns, seed, bar))
    rows.insert(0, (RANDOM_ROW, [f"random/seed{training_seed}" for training_seed in plan.seeds],
                    ["-"] * len(plan.seeds), random_stats))
    return plan, rows, notes


def format_score(value):
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def interval_text(estimate):
    return f"[{format_score(estimate.low)}, {format_score(estimate.high)}]"


def sweep_report(folder, checkpoint, episodes, seed):
    """The numbers of ``evaluate SWEEP_DIR``, as a dict (what ``--json`` prints)."""
    plan, rows, notes = collect_scores(folder, checkpoint, episodes, seed)
    measures = {score_table(stats)[0] for _, _, _, stats in rows}
    use_scores = measures == {"score"}
    variants = []
    for name, labels, names, stats in rows:
        scores = (np.array([s.scores for s in stats], dtype=np.float64) if use_scores
                  else np.array([s.rewards for s in stats], dtype=np.float64))
        summary = statistics.summarize_scores(scores)
        variants.append({
            "variant": name,
            "runs": labels,
            "checkpoints": names,
            "seed_means": [float(value) for value in scores.mean(axis=1)],
            **{statistic: estimate.as_dict() for statistic, estimate in summary.items()},
            "scores": scores.tolist(),
        })
    return {
        "sweep": str(folder),
        "measure": "score" if use_scores else "total reward",
        "games_per_run": episodes,
        "game_seed": seed,
        "checkpoint": checkpoint or "latest",
        "seeds": plan.seeds,
        "bootstrap": {"resamples": statistics.RESAMPLES, "confidence": statistics.CONFIDENCE,
                      "generator_seed": statistics.BOOTSTRAP_SEED, "over": "seeds"},
        "notes": notes,
        "variants": variants,
    }


def estimate(entry, name):
    values = entry[name]
    return statistics.Estimate(values["value"], values["ci_low"], values["ci_high"])


def report_lines(report):
    """The table of ``evaluate SWEEP_DIR``, and what the intervals say."""
    seeds = len(report["seeds"])
    which = "latest checkpoint" if report["checkpoint"] == "latest" else report["checkpoint"]
    lines = [
        f"{report['sweep']}: greedy {report['measure']} of each run's {which}, {seeds} seed(s) x "
        f"{report['games_per_run']} games per variant (game seed {report['game_seed']})",
        f"[95% CI]: bootstrap over seeds, {statistics.RESAMPLES} resamples (docs/experiments.md)",
        "",
    ]
    table = [["variant", "mean", "[95% CI]", "median", "IQM", "[95% CI]", "seed means"]]
    for entry in report["variants"]:
        mean, iqm = estimate(entry, "mean"), estimate(entry, "iqm")
        table.append([entry["variant"], format_score(mean.value), interval_text(mean),
                      format_score(entry["median"]["value"]), format_score(iqm.value), interval_text(iqm),
                      " ".join(format_score(value) for value in entry["seed_means"])])
    lines += format_table(table)
    trained = report["variants"][1:]
    if len(trained) > 1:
        reference = trained[0]
        lines.append("")
        for other in trained[1:]:
            first, second = estimate(reference, "iqm"), estimate(other, "iqm")
            if statistics.intervals_overlap(first, second):
                lines.append(f"{other['variant']} and {reference['variant']}: the IQM intervals overlap; "
                             f"these {seeds} seeds do not show that either is better.")
            else:
                better, worse = (other, reference) if second.value > first.value else (reference, other)
                lines.append(f"{better['variant']} scores higher than {worse['variant']} and the IQM intervals "
                             "do not overlap.")
    if seeds < 5:
        lines.append("")
        lines.append(f"With {seeds} seed(s) the intervals are rough; more seeds narrow them "
                     "('seeds' in sweep.toml, then 'retro-gamer sweep train').")
    return lines


def command_evaluate_sweep(folder, checkpoint, episodes, seed, as_json=False, stream=None):
    stream = stream or sys.stdout
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, not {episodes}")
    report = sweep_report(folder, checkpoint, episodes, seed)
    for note in report["notes"]:
        print(f"note: {note} (not finished training)", file=sys.stderr)
    if as_json:
        print(json.dumps(report, indent=2), file=stream)
    else:
        print("\n".join(report_lines(report)), file=stream)
    return 0
