"""Checkpoints: a training run's complete state in one ``.npz`` file.

``RUN_DIR/checkpoints/ep_0100.npz`` holds everything needed to continue
training exactly where it stopped, or to play with the agent:

- the online and target networks' weights, and Adam's moments and step count;
- ``meta``: one JSON string with the counters (episode, total turns), the
  schedules (epsilon, learning rate), the training time so far, a snapshot of
  the shape-defining settings (to refuse a checkpoint that no longer fits
  config.toml), the observation layout, the random generators' states, and
  the training.log line written for it.

The replay memory is large and only needed to resume, so it lives in one
file beside the checkpoints (``replay_memory.npz``), replaced at each save;
it records the episode it belongs to, and a resumed run uses it only when
that matches the checkpoint it resumes from.

Files are written atomically and read with ``allow_pickle=False``: opening a
checkpoint never runs code.
"""

import json
import re
from pathlib import Path

import numpy as np

from retro_gamer.errors import CheckpointError
from retro_gamer.nn.serialize import load_npz, save_npz

CHECKPOINT_DIR = "checkpoints"
REPLAY_FILE = "replay_memory.npz"
CHECKPOINT_NAME = re.compile(r"^ep_(\d{4,})\.npz$")


def checkpoint_dir(run_dir):
    return Path(run_dir) / CHECKPOINT_DIR


def checkpoint_file_name(episode):
    """``ep_0100.npz`` (four digits at least, more when needed)."""
    return f"ep_{episode:04d}.npz"


def episode_of(path):
    return int(CHECKPOINT_NAME.match(Path(path).name).group(1))


def list_checkpoints(run_dir):
    """The run's checkpoint files, oldest first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    files = [path for path in folder.iterdir() if CHECKPOINT_NAME.match(path.name)]
    return sorted(files, key=episode_of)


def resolve_checkpoint(run_dir, name=None):
    """The checkpoint a user named (``ep_0100`` or ``ep_0100.npz``), or the latest one."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise CheckpointError(
            f"{run_dir} has no checkpoints yet: run 'retro-gamer train {run_dir}' first "
            "(the first checkpoint is saved after 100 episodes, or when you stop with Ctrl-C).")
    if name is None:
        return checkpoints[-1]
    wanted = Path(name).name
    if not wanted.endswith(".npz"):
        wanted += ".npz"
    for path in checkpoints:
        if path.name == wanted:
            return path
    available = ", ".join(path.stem for path in checkpoints)
    raise CheckpointError(f"no checkpoint named {name} in {checkpoint_dir(run_dir)}. Available: {available}")


def save_checkpoint(path, arrays, meta):
    """Write the arrays plus the ``meta`` dict (as JSON) atomically."""
    contents = dict(arrays)
    contents["meta"] = np.array(json.dumps(meta))
    save_npz(path, contents)


def load_checkpoint(path):
    """Return ``(arrays, meta)``; a damaged file is a CheckpointError naming an earlier good one."""
    try:
        arrays = load_npz(path)
        meta = json.loads(str(arrays.pop("meta")[()]))
        if not isinstance(meta, dict):
            raise ValueError("its meta record is not a table")
    except CheckpointError as error:
        raise CheckpointError(f"{error}{_earlier_advice(path)}") from None
    except (KeyError, ValueError, TypeError) as error:
        raise CheckpointError(
            f"{path} is not a retro-gamer checkpoint ({error}).{_earlier_advice(path)}") from None
    return arrays, meta


def _earlier_advice(path):
    """Name the newest earlier checkpoint that loads, so the user knows what to fall back on."""
    path = Path(path)
    if not CHECKPOINT_NAME.match(path.name):
        return ""
    run_dir = path.parent.parent
    earlier = [p for p in list_checkpoints(run_dir) if episode_of(p) < episode_of(path)]
    for candidate in reversed(earlier):
        try:
            load_npz(candidate)
        except CheckpointError:
            continue
        return (f" Remove {path} to resume from {candidate.name}, or play an earlier one "
                f"with --checkpoint {candidate.stem}.")
    return f" Remove {path}; no earlier checkpoint loads, so training would start fresh."


def unusable(path, problem):
    """The error for a checkpoint that loads but whose contents do not fit."""
    return CheckpointError(f"{path} cannot be used ({problem}).{_earlier_advice(path)}")
