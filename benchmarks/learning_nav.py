"""Do the defaults chosen on Snake also learn another game? retro.examples.nav, 500 episodes.

Nav (asteroids falling on a 25x25 board, the ship dodging left and right)
ships its own description with ``spatial = true``, so this trains the
convolutional network with every other setting at its default, then plays
50 games with the greedy policy and 50 with random play (the same games).

    python benchmarks/learning_nav.py [--episodes 500]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from retro_gamer.show.evaluate import evaluate_greedy, evaluate_random
from retro_gamer.show.policy import load_policy
from retro_gamer.run.training_log import read_log


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "nav"
        for command in (["create", "--game", "retro.examples.nav", "--output", str(run_dir),
                         "--training-episodes", str(args.episodes)], ["train", str(run_dir)]):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "retro_gamer", *command], check=True, capture_output=True)
        seconds = time.perf_counter() - started
        for entry in read_log(run_dir / "training.log").entries:
            print(f"  episodes {entry.first_episode:4d}-{entry.last_episode:4d}: "
                  f"avg_reward {entry.avg_reward:7.1f}  avg_steps {entry.avg_steps:6.0f}  epsilon {entry.epsilon:.3f}")
        policy = load_policy(run_dir)
        greedy = evaluate_greedy(policy, episodes=50, seed=7)
        random_play = evaluate_random(policy, episodes=50, seed=7)
        print(f"nav, {args.episodes} episodes of training in {seconds:.0f} s")
        print(f"  greedy: mean score {np.mean(greedy.scores):7.1f}, mean length {np.mean(greedy.lengths):6.1f} turns")
        print(f"  random: mean score {np.mean(random_play.scores):7.1f}, "
              f"mean length {np.mean(random_play.lengths):6.1f} turns")


if __name__ == "__main__":
    main()
