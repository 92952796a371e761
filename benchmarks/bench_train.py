"""How fast does training run, and how much memory does it take?

Prints turns per second while training Snake, each configuration in a
fresh process (so its peak memory, from resource.getrusage, is its own):

- at the PyTorch predecessor's settings, set explicitly so that changing
  our defaults does not move the comparison: the full 32x16 board, MLP
  [128, 64], prioritized replay, batch 64, a learning step every 4 turns,
  memory 50,000, target copy every 500 turns, 300 episodes, seed 0;
- the same with uniform replay, and with spatial = true (the CNN);
- our defaults (the 5x5 window), for 300 and for 1000 episodes (turns per
  second must not fall as the replay memory fills);
- random play with the observation encoded: the ceiling, the game itself.

For scale, the predecessor measured on this kind of machine: 469 turns/s
(604 with uniform replay, 44 with its CNN), 557 MB peak, --help in 1.9 s.

    python benchmarks/bench_train.py
"""

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREDECESSOR = ["--no-egocentric", "--hidden-sizes", "128,64", "--prioritize-experiences", "--batch-size", "64",
               "--train-every", "4", "--memory-capacity", "50000", "--target-update-freq", "500", "--seed", "0"]

CONFIGURATIONS = [
    ("predecessor's settings (full board, PER)", PREDECESSOR, 300),
    ("same, uniform replay", PREDECESSOR + ["--no-prioritize-experiences"], 300),
    ("same, spatial = true (CNN 16, 32)", PREDECESSOR + ["--spatial"], 300),
    ("our defaults (5x5 window), 300 episodes", [], 300),
    ("our defaults (5x5 window), 1000 episodes", [], 1000),
]


def train_one(options, episodes):
    """In this process: create a Snake run with ``options`` and train it; print JSON figures."""
    from retro_gamer.cli import main
    from retro_gamer.run.config_file import read_config
    from retro_gamer.dqn.loop import Trainer

    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "snake"
        arguments = ["create", "--game", "retro.examples.snake", "--output", str(run_dir),
                     "--training-episodes", str(episodes), *options]
        with open("/dev/null", "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            main(arguments)
            sys.stdout = stdout
        trainer = Trainer(run_dir, read_config(run_dir))
        started = time.perf_counter()
        trainer.run_episodes(episodes)
        seconds = time.perf_counter() - started
    peak_megabytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"turns": trainer.progress.total_turns, "seconds": seconds, "peak_mb": peak_megabytes}))


def random_play(turns=20000):
    """Turns per second of random play, with the observation encoded (full board and window)."""
    from retro_gamer.game.environment import Environment
    from retro_gamer.game.loading import load_game
    from retro_gamer.game.observation import Observer

    source = load_game("retro.examples.snake")
    results = {}
    for name, options in (("full board", {}), ("5x5 window", {"egocentric": True,
                                                             "egocentric_player": "Snake head"})):
        random.seed(0)
        environment = Environment(source.factory, ["KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"], "score")
        observer = Observer(["@", "*", ">", "<", "^", "v"], (32, 16), observe_state=["apple_dx", "apple_dy"],
                            **options)
        done = True
        started = time.perf_counter()
        for _ in range(turns):
            if done:
                environment.reset()
                observer.start_episode(environment.game)
            _, done = environment.step(random.randrange(5))
            observer.encode(environment.game, environment.drawn_cells)
        results[name] = turns / (time.perf_counter() - started)
    return results


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        train_one(json.loads(sys.argv[2]), int(sys.argv[3]))
        return
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retro_gamer", "--help"], capture_output=True, check=True)
    print(f"retro-gamer --help: {time.perf_counter() - started:.2f} s")
    for name, turns_per_second in random_play().items():
        print(f"random play + encoding, {name:10s}: {turns_per_second:8.0f} turns/s (the ceiling)")
    print(f"{'training Snake':44s} {'turns':>7s} {'seconds':>8s} {'turns/s':>8s} {'peak MB':>8s}")
    for name, options, episodes in CONFIGURATIONS:
        result = subprocess.run([sys.executable, __file__, "--one", json.dumps(options), str(episodes)],
                                capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{name:44s} {figures['turns']:7d} {figures['seconds']:8.1f} "
              f"{figures['turns'] / figures['seconds']:8.0f} {figures['peak_mb']:8.0f}", flush=True)


if __name__ == "__main__":
    main()
