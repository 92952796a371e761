"""Does the default Snake run learn? And what does each technique contribute?

Runs ``retro-gamer create --game retro.examples.snake`` + ``retro-gamer train``
with nothing edited for seeds 0, 1 and 2, and prints for each:

- apples per episode in every 100-episode block (training.log's avg_reward / 50:
  Snake's score rises by 50 per apple; exploration is still on);
- the greedy evaluation of the last checkpoint (50 games: apples per game);
- wall-clock seconds of the training.

Then an ablation table (seed 0): each technique switched off in turn, and
other observations (the full board instead of the window, no board at all,
a convolutional network) and the shaped ``reward`` state key.

    python benchmarks/learning_curves.py              # everything (about 15 minutes)
    python benchmarks/learning_curves.py --only default --seeds 0
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from retro_gamer.show.evaluate import evaluate_greedy
from retro_gamer.show.policy import load_policy
from retro_gamer.run.training_log import read_log

APPLE = 50  # Snake's score rises by 50 per apple

ABLATIONS = [
    ("default", []),
    ("no Double DQN (plain max target)", ["--no-double-dqn"]),
    ("1-step returns (n_step = 1)", ["--n-step", "1"]),
    ("no reward scaling (reward_scale = 1)", ["--reward-scale", "1"]),
    ("no gradient clipping", ["--max-grad-norm", "0"]),
    ("prioritized replay on", ["--prioritize-experiences"]),
    ("a learning step every turn", ["--train-every", "1"]),
    ("a learning step every 4 turns", ["--train-every", "4"]),
    ("full 32x16 board (egocentric = false)", ["--no-egocentric"]),
    ("board = false (apple_dx, apple_dy only)", ["--no-board"]),
    ("spatial = true (CNN over the 5x5 window)", ["--spatial"]),
    ("shaped reward key (reward = 'reward')", ["--reward", "reward"]),
]


def run(command):
    result = subprocess.run([sys.executable, "-m", "retro_gamer", *command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")


def measure(folder, options, seed):
    """Train one run; return (apples per 100-episode block, greedy apples, seconds)."""
    run_dir = Path(folder) / f"seed{seed}"
    run(["create", "--game", "retro.examples.snake", "--output", str(run_dir), "--seed", str(seed), *options])
    started = time.perf_counter()
    run(["train", str(run_dir)])
    seconds = time.perf_counter() - started
    entries = read_log(run_dir / "training.log").entries
    blocks = [entry.avg_reward / APPLE for entry in entries]
    policy = load_policy(run_dir)
    greedy = evaluate_greedy(policy, episodes=50, seed=1000 + seed)
    greedy_apples = sum(greedy.scores) / len(greedy.scores) / APPLE
    return blocks, greedy_apples, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the default run (default: 0,1,2)")
    parser.add_argument("--only", help="run only the ablation whose name starts with this")
    parser.add_argument("--ablations-only", action="store_true", help="skip the default runs")
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        if not args.ablations_only and (args.only is None or "default".startswith(args.only)):
            print("The default run (retro-gamer create --game retro.examples.snake; retro-gamer train)")
            print("apples per episode in each 100-episode block, training (exploration on)")
            finals, greedies = [], []
            for seed in seeds:
                blocks, greedy, seconds = measure(Path(folder) / "default", [], seed)
                finals.append(blocks[-1])
                greedies.append(greedy)
                print(f"  seed {seed}: " + " ".join(f"{apples:4.2f}" for apples in blocks)
                      + f" | greedy {greedy:5.1f} apples/game (50 games) | {seconds:5.0f} s")
            print(f"  mean of the last block: {sum(finals) / len(finals):.2f} apples/episode; "
                  f"greedy: {sum(greedies) / len(greedies):.1f} apples/game")
            print()
        print("Ablations (seed 0): last 100-episode block, apples/episode | greedy apples/game | seconds")
        for number, (name, options) in enumerate(ABLATIONS[1:], start=1):
            if args.only and not name.startswith(args.only):
                continue
            blocks, greedy, seconds = measure(Path(folder) / f"ablation{number}", options, 0)
            last = f"{blocks[-1]:5.2f}" if "reward = 'reward'" not in name else "  n/a"
            print(f"  {name:44s} {last} | {greedy:5.1f} | {seconds:5.0f}", flush=True)


if __name__ == "__main__":
    main()
