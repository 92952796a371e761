"""How fast is the replay memory, and how big?

For Snake-sized observations (a 16 x 32 board of codes and 2 observed-state
values) at capacities 5,000, 50,000 and 500,000, this prints:

- push: microseconds to store one transition;
- sample+update: microseconds to draw a batch of 64 and give it new
  priorities (what every learning step does);
- bytes per stored transition, all arrays (and priority trees) included.

Goals: sample+update of 64 at 50,000 under 300 us, not growing with capacity
beyond the tree's log2 depth; a full 50,000-transition Snake memory under 60 MB.

Run:  python3 benchmarks/bench_replay.py [--repeats 3]
"""

import argparse
import time

import numpy as np

from retro_gamer.dqn.replay import make_replay

BOARD_SHAPE = (16, 32)
STATE_SIZE = 2
BATCH_SIZE = 64
CAPACITIES = (5_000, 50_000, 500_000)


def fill(memory, count, rng):
    """Push ``count`` random Snake-like transitions; return microseconds per push."""
    boards = rng.integers(0, 8, size=(256, *BOARD_SHAPE), dtype=np.uint8)
    states = rng.normal(size=(256, STATE_SIZE)).astype(np.float32)
    start = time.perf_counter()
    for number in range(count):
        row = number % 256
        memory.push(boards[row], states[row], row % 4, 1.0, boards[row - 1],
                    states[row - 1], row == 0)
    return (time.perf_counter() - start) / count * 1e6


def time_learning_steps(memory, steps, rng):
    """Microseconds per sample of 64 plus update of their priorities."""
    td_errors = rng.normal(size=(steps, BATCH_SIZE)).astype(np.float32)
    start = time.perf_counter()
    for step in range(steps):
        batch = memory.sample(BATCH_SIZE, beta=0.4)
        memory.update_priorities(batch.indices, td_errors[step])
    return (time.perf_counter() - start) / steps * 1e6


def measure(prioritized, capacity, repeats):
    rng = np.random.default_rng(0)
    memory = make_replay(prioritized, capacity, BOARD_SHAPE, STATE_SIZE, seed=0)
    fill(memory, capacity, rng)
    push_us = min(fill(memory, 5_000, rng) for _ in range(repeats))
    learn_us = min(time_learning_steps(memory, 2_000, rng) for _ in range(repeats))
    return push_us, learn_us, memory.nbytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    print(f"Snake-sized transitions: board {BOARD_SHAPE[0]}x{BOARD_SHAPE[1]}, "
          f"{STATE_SIZE} state values, batch {BATCH_SIZE}; best of {args.repeats}")
    print(f"{'memory':<12}{'capacity':>10}{'push us':>10}{'sample+update us':>18}"
          f"{'bytes/transition':>18}{'total MB':>10}")
    for prioritized in (False, True):
        for capacity in CAPACITIES:
            push_us, learn_us, nbytes = measure(prioritized, capacity, args.repeats)
            name = "prioritized" if prioritized else "uniform"
            print(f"{name:<12}{capacity:>10,}{push_us:>10.1f}{learn_us:>18.1f}"
                  f"{nbytes / capacity:>18.0f}{nbytes / 1e6:>10.1f}")


if __name__ == "__main__":
    main()
