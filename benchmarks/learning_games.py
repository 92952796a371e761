"""Do the defaults learn every game, not only Snake? One table, every game, nothing edited.

For each game: ``retro-gamer create --game GAME`` with no option but the
seed, ``retro-gamer train`` (timed), then the greedy policy of the last
checkpoint and random play on the same 100 games (``evaluate``'s seeds).
The table gives the greedy and random mean score, their ratio and their
difference, the episodes trained and the training seconds. A game's score
is its reward key's total, so "greedy / random" reads as "times better"
only when random play scores above zero; "greedy - random" always reads.

    python benchmarks/learning_games.py                       # every game, seed 0
    python benchmarks/learning_games.py --games nav,beast --seeds 0,1,2
    python benchmarks/learning_games.py --jobs 2              # two trainings at once (one per core)

Trainings run as separate processes. With ``--jobs 2`` two share the two
cores of a lab machine: each gets one, so the seconds are what a user with
one training per core sees, but a quiet machine measures alone with
``--jobs 1`` (the default).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GAMES = {
    "snake": "retro.examples.snake",
    "nav": "retro.examples.nav",
    "beast": "retro.examples.beast",
    "catch": str(ROOT / "tests" / "games" / "catch"),
    "walker": str(ROOT / "tests" / "games" / "walker.py"),
    "goal": str(ROOT / "tests" / "games" / "goal"),
    "gather": str(ROOT / "tests" / "games" / "gather"),
}
EVALUATION_GAMES = 100
EVALUATION_SEED = 0


def train_and_evaluate(folder, name, seed):
    """One default run of one game: (episodes, training seconds, greedy scores, random scores)."""
    from retro_gamer.run.training_log import read_log
    from retro_gamer.show.evaluate import evaluate_greedy, evaluate_random
    from retro_gamer.show.policy import load_policy

    run_dir = Path(folder) / f"{name}-seed{seed}"
    create = ["create", "--game", GAMES[name], "--output", str(run_dir), "--seed", str(seed)]
    subprocess.run([sys.executable, "-m", "retro_gamer", *create], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retro_gamer", "train", str(run_dir)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    episodes = read_log(run_dir / "training.log").entries[-1].last_episode
    policy = load_policy(run_dir)
    greedy = evaluate_greedy(policy, episodes=EVALUATION_GAMES, seed=EVALUATION_SEED)
    random_play = evaluate_random(policy, episodes=EVALUATION_GAMES, seed=EVALUATION_SEED)
    return episodes, seconds, greedy.rewards, random_play.rewards


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", default=",".join(GAMES), help=f"comma-separated, of {', '.join(GAMES)}")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    parser.add_argument("--jobs", type=int, default=1, help="trainings at once (default: 1)")
    args = parser.parse_args()
    names = args.games.split(",")
    unknown = [name for name in names if name not in GAMES]
    if unknown:
        parser.error(f"unknown games {unknown}; choose from {', '.join(GAMES)}")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"Default runs (create + train, nothing edited); greedy and random play over {EVALUATION_GAMES} games")
    print(f"{'game':8s} {'seed':>4s} {'episodes':>8s} {'train s':>8s} {'greedy':>9s} {'random':>9s} "
          f"{'greedy/random':>13s} {'greedy-random':>13s}")
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(args.jobs) as pool:
        jobs = [(name, seed, pool.submit(train_and_evaluate, folder, name, seed)) for name in names for seed in seeds]
        for name, seed, job in jobs:
            episodes, seconds, greedy, random_play = job.result()
            greedy_mean, random_mean = float(np.mean(greedy)), float(np.mean(random_play))
            ratio = f"{greedy_mean / random_mean:13.2f}" if random_mean > 0 else f"{'n/a':>13s}"
            print(f"{name:8s} {seed:4d} {episodes:8d} {seconds:8.0f} {greedy_mean:9.2f} {random_mean:9.2f} "
                  f"{ratio} {greedy_mean - random_mean:+13.2f}", flush=True)


if __name__ == "__main__":
    main()
