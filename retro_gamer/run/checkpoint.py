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

Saving happens in three steps, each file written atomically: the replay
memory, then the checkpoint, then the training.log line. A run stopped
between two steps leaves files a resumed session can still use: a replay
memory newer than the latest checkpoint is refused because its episode does
not match, and a log line missing after its checkpoint is put back
(``run/session.py``).

Nothing here is pickled. The replay memory becomes plain arrays (its random
generator's state a JSON string), and files are read with
``allow_pickle=False``: opening a checkpoint never runs code.
"""

import json
import random
import re
import time
from pathlib import Path

import numpy as np

from retro_gamer.dqn.replay import PrioritizedReplay
from retro_gamer.errors import CheckpointError, TrainingError
from retro_gamer.nn.serialize import load_npz, save_npz
from retro_gamer.run.settings import shape_snapshot
from retro_gamer.run.training_log import LogEntry, checkpoint_name, format_checkpoint_line, write_training_log

CHECKPOINT_DIR = "checkpoints"
REPLAY_FILE = "replay_memory.npz"
CHECKPOINT_NAME = re.compile(r"^ep_(\d{4,})\.npz$")


# --- names, and the checkpoints a run holds -------------------------------------------

def checkpoint_dir(run_dir):
    return Path(run_dir) / CHECKPOINT_DIR


def checkpoint_file_name(episode):
    """``ep_0100.npz``: the checkpoint's name in training.log (``ep_0100``), as a file."""
    return f"{checkpoint_name(episode)}.npz"


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


# --- saving a trainer -----------------------------------------------------------------

def save_checkpoint(trainer, block, progress_bar):
    """Replay memory, then the checkpoint, then the log line; each file atomically.

    ``block`` is what happened since the previous checkpoint; its summary
    becomes the checkpoint's training.log line, which is also kept in the
    checkpoint (to put the line back if the log missed it).
    """
    progress, run_dir = trainer.progress, trainer.run_dir
    elapsed = time.perf_counter() - block.started   # in this session
    progress.training_seconds += elapsed
    name = checkpoint_name(progress.episode)
    line = format_checkpoint_line(LogEntry(
        name=name, first_episode=block.first_episode, last_episode=progress.episode,
        avg_reward=float(np.mean(block.rewards)), avg_steps=float(np.mean(block.turns)),
        epsilon=progress.epsilon,
        avg_loss=block.loss_sum / block.loss_count if block.loss_count else float("nan"),
        time_seconds=block.earlier_seconds + elapsed, total_seconds=progress.training_seconds))
    _check_weights_are_finite(trainer)
    folder = checkpoint_dir(run_dir)
    memory_arrays = replay_arrays(trainer.memory)
    memory_arrays["episode"] = np.array(progress.episode)  # which checkpoint it belongs to
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_npz(folder / REPLAY_FILE, memory_arrays)
        write_checkpoint(folder / checkpoint_file_name(progress.episode),
                         trainer_arrays(trainer), trainer_meta(trainer, line))
    except (OSError, CheckpointError) as error:
        saved = list_checkpoints(run_dir)
        intact = f"{saved[-1].name} is intact" if saved else "no earlier checkpoint exists"
        raise TrainingError(
            f"could not save checkpoint {name} at episode {progress.episode}: {error} "
            f"({intact}; free some disk space or make {run_dir} writable, then train again)"
        ) from None
    progress.log_lines.append(line)
    write_training_log(run_dir, progress.log_lines, f"checkpoint {name} was saved, but ")
    progress_bar.write(line)


def _check_weights_are_finite(trainer):
    """No checkpoint with broken weights: they would only be resumed from, and break again."""
    for network in (trainer.agent.online, trainer.agent.target):
        if not all(np.isfinite(parameter).all() for parameter in network.parameters()):
            raise TrainingError(
                f"the network's weights are no longer finite numbers at episode {trainer.progress.episode}; "
                f"lower learning_rate in {trainer.run_dir / 'config.toml'} and train again.")


def trainer_arrays(trainer):
    """Both networks' weights and Adam's state, under the prefixes ``online/``, ``target/``, ``adam/``."""
    agent = trainer.agent
    arrays = {}
    arrays.update(agent.online.state_arrays(prefix="online/"))
    arrays.update(agent.target.state_arrays(prefix="target/"))
    arrays.update(agent.optimizer.state_arrays(prefix="adam/"))
    return arrays


def trainer_meta(trainer, log_line):
    """The counters, the schedules, the random generators and the shape, as a JSON-ready dict."""
    progress, settings = trainer.progress, trainer.settings
    python_version, python_state, python_gauss = random.getstate()
    return {
        "episode": progress.episode,
        "total_turns": progress.total_turns,
        "epsilon": progress.epsilon,
        "learning_rate": trainer.agent.optimizer.learning_rate,
        "training_seconds": progress.training_seconds,
        "largest_reward": progress.largest_reward,
        "unfinished_block": progress.unfinished_block,
        "settings_learning_rate": settings.learning_rate,
        "settings_epsilon": settings.epsilon,
        "shape": shape_snapshot(settings),
        "state_keys": [list(item) for item in trainer.layout.state_keys],
        "numpy_rng": trainer.rng.bit_generator.state,
        "python_random": [python_version, list(python_state), python_gauss],
        "log_line": log_line,
    }


# --- restoring a trainer --------------------------------------------------------------

def restore_trainer(trainer, arrays, meta):
    """Put a loaded checkpoint's arrays and meta back into ``trainer`` (checked by the caller)."""
    agent, progress = trainer.agent, trainer.progress
    agent.online.load_state_arrays(arrays, prefix="online/")
    agent.target.load_state_arrays(arrays, prefix="target/")
    agent.optimizer.load_state_arrays(arrays, prefix="adam/")
    progress.episode = int(meta["episode"])
    progress.total_turns = int(meta["total_turns"])
    progress.epsilon = float(meta["epsilon"])
    agent.optimizer.learning_rate = float(meta["learning_rate"])
    progress.training_seconds = float(meta["training_seconds"])
    progress.largest_reward = float(meta["largest_reward"])
    progress.unfinished_block = _unfinished_block(meta)
    _apply_edited_schedules(trainer, meta)
    trainer.rng.bit_generator.state = meta["numpy_rng"]
    version, state, gauss = meta["python_random"]
    random.setstate((version, tuple(state), gauss))


def _unfinished_block(meta):
    """The block a stop cut short (``loop.Block.saved``), with its types checked, or None.

    (Checkpoints older than it have none; a damaged one raises KeyError,
    TypeError or ValueError, which the caller reports as an unusable checkpoint.)
    """
    saved = meta.get("unfinished_block")
    if saved is None:
        return None
    block = {"first_episode": int(saved["first_episode"]),
             "rewards": [float(reward) for reward in saved["rewards"]],
             "turns": [int(turns) for turns in saved["turns"]],
             "loss_sum": float(saved["loss_sum"]), "loss_count": int(saved["loss_count"]),
             "seconds": float(saved["seconds"])}
    if len(block["rewards"]) != len(block["turns"]):
        raise ValueError("the unfinished block's rewards and turns differ in number")
    return block


def _apply_edited_schedules(trainer, meta):
    """A learning_rate or epsilon edited in config.toml since the checkpoint starts from the new value."""
    settings, progress, optimizer = trainer.settings, trainer.progress, trainer.agent.optimizer
    if settings.learning_rate != meta["settings_learning_rate"]:
        optimizer.learning_rate = settings.learning_rate
    if settings.epsilon != meta["settings_epsilon"]:
        progress.epsilon = settings.epsilon
    progress.epsilon = max(settings.epsilon_min, progress.epsilon)


# --- the replay memory as plain arrays ------------------------------------------------

def replay_arrays(memory):
    """Everything needed to resume a replay memory exactly, as plain numpy arrays.

    The transitions, the write position and size, the random generator's
    state (a JSON string); for prioritized replay also both priority trees
    and the largest priority.
    """
    arrays = dict(memory.transition_arrays())
    arrays["kind"] = np.array(memory.kind)
    arrays["write_position"] = np.array(memory.write_position, dtype=np.int64)
    arrays["size"] = np.array(memory.size, dtype=np.int64)
    arrays["rng_state"] = np.array(json.dumps(memory.rng.bit_generator.state))
    if isinstance(memory, PrioritizedReplay):
        arrays["tree_sums"] = memory.tree.sums.copy()
        arrays["tree_minima"] = memory.tree.minima.copy()
        arrays["max_priority"] = np.array(memory.max_priority, dtype=np.float64)
    return arrays


def load_replay_arrays(memory, arrays):
    """Restore what ``replay_arrays`` exported into ``memory``; CheckpointError if it does not fit.

    Everything is checked before anything changes, so a memory that does
    not fit leaves this one as it was.
    """
    _check_replay_fits(memory, arrays)
    _restore_replay(memory, arrays)


def _check_replay_fits(memory, arrays):
    """Raise CheckpointError unless ``arrays`` is a memory of this kind and shape."""
    saved_kind = str(_required(arrays, "kind"))
    if saved_kind != memory.kind:
        raise CheckpointError(
            f"The saved replay memory is {saved_kind} but this run's is {memory.kind} "
            "(prioritize_experiences changed). Start this run with an empty memory, "
            "or set prioritize_experiences back.")
    for name, array in memory.transition_arrays().items():
        saved_shape = _required(arrays, name).shape
        if saved_shape != array.shape:
            raise CheckpointError(
                f"The saved replay memory's {name} have shape {saved_shape}, but this "
                f"memory holds {array.shape} (memory_capacity, board or observed state "
                "changed). Start this run with an empty memory.")
    write_position = int(_required(arrays, "write_position"))
    size = int(_required(arrays, "size"))
    if not (0 <= write_position < memory.capacity and 0 <= size <= memory.capacity):
        raise CheckpointError(
            f"The saved replay memory is damaged: write position {write_position} and "
            f"size {size} do not fit its capacity {memory.capacity}. Start this run with "
            "an empty memory.")
    _required(arrays, "rng_state")
    if isinstance(memory, PrioritizedReplay):
        for name in ("tree_sums", "tree_minima"):
            saved_shape = _required(arrays, name).shape
            if saved_shape != memory.tree.sums.shape:
                raise CheckpointError(
                    f"The saved replay memory's priority tree has shape {saved_shape}, but "
                    f"this memory's has {memory.tree.sums.shape} (memory_capacity changed). "
                    "Start this run with an empty memory.")
        _required(arrays, "max_priority")


def _restore_replay(memory, arrays):
    """Copy checked ``arrays`` into ``memory``: the random generator's state first, the priorities last."""
    rng_json = str(np.asarray(arrays["rng_state"]))
    try:
        memory.rng.bit_generator.state = json.loads(rng_json)
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointError(
            f"The saved replay memory's random generator state cannot be restored "
            f"({error}). Start this run with an empty memory.") from None
    for name, array in memory.transition_arrays().items():
        array[...] = arrays[name]
    memory.write_position = int(arrays["write_position"])
    memory.size = int(arrays["size"])
    if isinstance(memory, PrioritizedReplay):
        memory.tree.sums[...] = arrays["tree_sums"]
        memory.tree.minima[...] = arrays["tree_minima"]
        memory.max_priority = float(arrays["max_priority"])


def _required(arrays, name):
    """``arrays[name]`` as an ndarray, or CheckpointError if the saved memory lacks it."""
    if name not in arrays:
        raise CheckpointError(
            f"The saved replay memory has no '{name}' array: it was written by another "
            "version or is damaged. Start this run with an empty memory.")
    return np.asarray(arrays[name])


# --- the files ------------------------------------------------------------------------

def write_checkpoint(path, arrays, meta):
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
