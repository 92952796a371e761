"""``retro-gamer train RUN_DIR``: one training session around the DQN loop.

The loop itself (``dqn/loop.py``) only plays and learns. A session is what
happens around it:

1. read config.toml and build a ``Trainer`` from it;
2. start fresh (training.log begins with the network and the observation),
   or resume from the latest checkpoint: check that it still fits
   config.toml, load it, refill the replay memory saved beside it, and mend
   training.log (``_log_lines_up_to``);
3. run the loop until ``training_episodes``, with a progress bar;
4. stop cleanly on Ctrl-C: the first asks the loop to finish its episode and
   save a checkpoint (``_StopRequest``), the second stops at once.

A resumed session continues exactly: the checkpoint holds the networks,
Adam, the counters, the schedules and the random generators, and the replay
memory file holds the memory and its generator, so the resumed run takes the
same steps, bit for bit, as one that never stopped.
"""

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from retro_gamer.dqn.loop import Trainer
from retro_gamer.errors import CheckpointError
from retro_gamer.nn.serialize import load_npz
from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.atomic import remove_leftovers
from retro_gamer.run.config_file import read_config
from retro_gamer.errors import shown
from retro_gamer.run.lock import holding_run_lock
from retro_gamer.run.settings import incompatibility_message, incompatible_changes
from retro_gamer.run.training_log import (LOG_FILE_NAME, format_resume_line, parse_checkpoint_line,
                                          write_training_log)


@holding_run_lock("train")
def train(run_dir):
    """``retro-gamer train RUN_DIR``: train, resuming from the latest checkpoint."""
    from tqdm import tqdm

    settings = read_config(run_dir)
    for folder in (Path(run_dir), checkpoints.checkpoint_dir(run_dir)):
        remove_leftovers(folder)  # from a run that was killed while saving
    trainer = Trainer(run_dir, settings)
    existing = checkpoints.list_checkpoints(run_dir)
    if existing:
        latest = existing[-1]
        meta = resume_from(trainer, latest)
        log_lines = _log_lines_up_to(run_dir, meta)
        if trainer.progress.episode >= settings.training_episodes:
            write_training_log(run_dir, log_lines)
            print(f"Training already complete ({trainer.progress.episode} episodes). To keep training,\n"
                  "increase training_episodes in config.toml.")
            return 0
        note = resume_memory(trainer, trainer.progress.episode)
        trainer.progress.log_lines = log_lines + [format_resume_line(latest.name, datetime.now())]
        write_training_log(run_dir, trainer.progress.log_lines)
        print(f"Resuming from {latest.name} (episode {trainer.progress.episode}).", file=sys.stderr)
        if note:
            print(f"Note: {note}.", file=sys.stderr)
    else:
        trainer.progress.log_lines = _header_lines(trainer)
    bar = tqdm(total=settings.training_episodes, initial=trainer.progress.episode, unit="ep",
               dynamic_ncols=True, disable=None, file=sys.stderr)
    try:
        with _StopRequest() as stop_requested:
            trainer.run_episodes(settings.training_episodes, stop_requested, bar)
    except KeyboardInterrupt:
        bar.close()
        latest = checkpoints.list_checkpoints(run_dir)
        where = f"The latest checkpoint is {latest[-1].name}" if latest else "No checkpoint was saved yet"
        print(f"\nStopped. {where}; run 'retro-gamer train {shown(run_dir)}' to resume.", file=sys.stderr)
        return 130
    finally:
        bar.close()  # before any error message, so the bar's line is finished
    if stop_requested.requested:
        latest = checkpoints.list_checkpoints(run_dir)[-1]
        print(f"Stopped. Saved {latest.name}; run 'retro-gamer train {shown(run_dir)}' to resume.",
              file=sys.stderr)
        return 130
    print(f"Done. Checkpoints saved in {os.path.join(shown(run_dir), checkpoints.CHECKPOINT_DIR, '')}")
    return 0


def _header_lines(trainer):
    """The first lines of a new training.log: the network and what it sees."""
    lines = ["Network architecture:"]
    lines += ["  " + line for line in trainer.agent.online.describe()]
    lines += ["Observation:"] + ["  " + line for line in trainer.layout.describe()]
    return lines + [""]


# --- resuming -------------------------------------------------------------------------

def resume_from(trainer, path):
    """Load the checkpoint at ``path`` into ``trainer`` (after checking it still fits); return its meta."""
    arrays, meta = checkpoints.load_checkpoint(path)
    changes = incompatible_changes(meta.get("shape", {}), trainer.settings)
    if changes:
        raise CheckpointError(incompatibility_message(path.name, changes, shown(trainer.run_dir)))
    saved_keys = [tuple(item) for item in meta.get("state_keys", [])]
    if saved_keys != [tuple(item) for item in trainer.layout.state_keys]:
        raise CheckpointError(
            f"Cannot resume from {path.name}: the observed state values changed shape "
            f"(was {saved_keys}, now {list(trainer.layout.state_keys)}). Run 'retro-gamer clean "
            f"{shown(trainer.run_dir)}' to start fresh.")
    try:
        checkpoints.restore_trainer(trainer, arrays, meta)
    except (CheckpointError, KeyError, TypeError, ValueError) as problem:
        raise checkpoints.unusable(path, problem) from None
    return meta


def resume_memory(trainer, episode):
    """Refill the replay memory saved beside the checkpoint, if it belongs to it.

    Returns None, or a note on why the memory starts empty instead (a
    resumed run still works then, it only relearns a little).
    """
    path = checkpoints.checkpoint_dir(trainer.run_dir) / checkpoints.REPLAY_FILE
    if not path.exists():
        return "no replay memory was saved; it refills as the agent plays"
    try:
        arrays = load_npz(path)
        if int(arrays.pop("episode")) != episode:
            return "the saved replay memory belongs to another checkpoint; it refills as the agent plays"
        checkpoints.load_replay_arrays(trainer.memory, arrays)
    except (CheckpointError, KeyError) as error:
        return f"the saved replay memory does not fit ({error}); it refills as the agent plays"
    return None


def _log_lines_up_to(run_dir, meta):
    """training.log as it should be for a run whose latest checkpoint is ``meta``'s.

    Lines for episodes after the checkpoint (written just before a crash)
    are dropped; the checkpoint's own line is restored if the run stopped
    between saving the checkpoint and rewriting the log.
    """
    path = Path(run_dir) / LOG_FILE_NAME
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = []
    for line in lines:
        entry = parse_checkpoint_line(line)
        if entry is not None and entry.last_episode > meta["episode"]:
            continue
        kept.append(line)
    logged = [parse_checkpoint_line(line) for line in kept]
    if not any(entry is not None and entry.last_episode == meta["episode"] for entry in logged):
        kept.append(meta["log_line"])
    return kept


# --- Ctrl-C ---------------------------------------------------------------------------

class _StopRequest:
    """The first Ctrl-C asks training to stop after the current episode; the second stops at once."""

    def __init__(self):
        self.requested = False
        self.previous_handler = None

    def __call__(self):
        return self.requested

    def _handle(self, signal_number, frame):
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nStopping after this episode to save a checkpoint (Ctrl-C again to stop at once)...",
              file=sys.stderr)

    def __enter__(self):
        self.previous_handler = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous_handler)
        return False
