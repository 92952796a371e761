"""Did two runs train the same? For refactors, which must change no behaviour.

    python tools/same_run.py RUN_A RUN_B

Compares training.log line by line without the ``time=`` and ``total=``
fields (wall-clock durations never match), and every array of every
checkpoint (and of replay_memory.npz) with ``np.array_equal``, loaded with
``allow_pickle=False``. The JSON meta array is skipped: it holds the
training seconds. Exit 0 when everything is the same, 1 otherwise.
"""

import re
import sys
from pathlib import Path

import numpy as np

DURATIONS = re.compile(r" time=\S+ total=\S+")


def log_lines(run_dir):
    return [DURATIONS.sub("", line) for line in (Path(run_dir) / "training.log").read_text().splitlines()]


def differing_arrays(file_a, file_b):
    a, b = np.load(file_a, allow_pickle=False), np.load(file_b, allow_pickle=False)
    if sorted(a.files) != sorted(b.files):
        return [f"{file_a.name}: different arrays {sorted(set(a.files) ^ set(b.files))}"]
    return [f"{file_a.name}: {key}" for key in a.files
            if a[key].dtype.kind not in "US" and not np.array_equal(a[key], b[key])]


def main():
    run_a, run_b = Path(sys.argv[1]), Path(sys.argv[2])
    problems = []
    lines_a, lines_b = log_lines(run_a), log_lines(run_b)
    if lines_a != lines_b:
        problems += [f"training.log: {x!r} != {y!r}" for x, y in zip(lines_a, lines_b) if x != y]
        if len(lines_a) != len(lines_b):
            problems.append(f"training.log: {len(lines_a)} lines against {len(lines_b)}")
    files = sorted((run_a / "checkpoints").glob("*.npz"))
    for file_a in files:
        file_b = run_b / "checkpoints" / file_a.name
        problems += differing_arrays(file_a, file_b) if file_b.exists() else [f"{file_a.name}: missing in {run_b}"]
    print(f"{len(lines_a)} log lines, {len(files)} npz files compared")
    print("\n".join(problems) if problems else "the same: every log line (without durations) and every array")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
