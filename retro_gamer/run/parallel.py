"""``retro-gamer sweep train``: train a sweep's runs side by side, one process per run.

Each run is trained by its own ``retro-gamer train RUN_DIR`` process, the
very command a user would type, so a run trained inside a sweep is the same
run as one trained alone: same training.log, same checkpoints, bit for bit.
At most ``--jobs`` of them train at once (default: one per core this process
may use); each gets one BLAS thread (``OPENBLAS_NUM_THREADS=1`` and friends),
so N runs use N cores instead of fighting over them.

Progress. The children write nothing to the terminal: the output of each
goes to ``SWEEP_DIR/output/VARIANT/seedN.txt``. The sweep shows one bar for
all its episodes, counted from the runs' checkpoints (so it moves at each
checkpoint, every 100 episodes of a run), a line each time a run starts,
ends or fails, and how many runs are done, training and waiting.

Stopping. Every child runs in a process group of its own, so Ctrl-C reaches
only this process, which passes it on to every running child: each stops at
the end of its episode and saves a checkpoint, exactly as ``train`` does
alone, and runs not started yet stay waiting. A second Ctrl-C is passed on
too, and stops the children at once (they keep their latest checkpoint).
SIGTERM (a batch scheduler's time limit) counts as a first Ctrl-C. Running
the same command again resumes every run from its checkpoint.
"""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from retro_gamer.errors import ConfigError, shown
from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.lock import hold_run_lock
from retro_gamer.run.sweep import OUTPUT_DIR, read_plan, run_state, update_sweep
from retro_gamer.run.training_log import format_duration

POLL_SECONDS = 0.25
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
INTERRUPTED = 130


def available_cores():
    """The cores this process may run on (a cluster job's share, not the whole machine)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


@dataclass
class Running:
    """One child ``retro-gamer train`` and what the bar has counted of it."""

    state: object
    process: subprocess.Popen
    output: object
    started: float
    counted: int


class _Signals:
    """Ctrl-C and SIGTERM while the sweep trains: remember them, pass them on."""

    def __init__(self, running):
        self.running = running
        self.count = 0
        self.previous = {}

    def _handle(self, signal_number, frame):
        self.count += 1
        for child in self.running:
            if child.process.poll() is None:
                try:
                    child.process.send_signal(signal.SIGINT)
                except OSError:
                    pass

    def __enter__(self):
        for number in (signal.SIGINT, signal.SIGTERM):
            self.previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc):
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return False


def child_command(run_dir):
    return [sys.executable, "-m", "retro_gamer", "train", str(run_dir)]


def child_environment():
    environment = dict(os.environ)
    environment.update(ONE_THREAD)
    return environment


def output_path(folder, run):
    return Path(folder) / OUTPUT_DIR / run.variant.folder / f"seed{run.seed}.txt"


def last_line(path):
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                 if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def latest_episode(run_dir):
    saved = checkpoints.list_checkpoints(run_dir)
    return checkpoints.episode_of(saved[-1]) if saved else 0


def train_sweep(folder, jobs=None):
    """Train every run of the sweep that is not done, ``jobs`` at a time."""
    from tqdm import tqdm

    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, not {jobs}")
    plan = read_plan(folder)
    with hold_run_lock(folder, "train the sweep"):
        update_sweep(folder, quiet=True)
        states = [run_state(run) for run in plan.runs()]
        waiting = [state for state in sorted(states, key=lambda state: plan.seeds.index(state.run.seed))
                   if not state.done]
        jobs = min(jobs or available_cores(), max(1, len(waiting)))
        folder_text = shown(folder)
        if not waiting:
            print(f"Every run of {folder_text} is trained ({len(states)} runs). "
                  f"Compare them with 'retro-gamer evaluate {folder_text}'.")
            return 0
        print(f"Training {len(waiting)} of {len(states)} runs of {folder_text}, {jobs} at a time "
              "(Ctrl-C stops them all with a checkpoint; run this again to resume).", file=sys.stderr)
        total = sum(state.total for state in states)
        bar = tqdm(total=total, initial=sum(min(state.episode, state.total) for state in states),
                   unit="ep", desc="sweep", dynamic_ncols=True, disable=None, file=sys.stderr)
        running, finished, failed, stopped = [], [], [], []

        def say(text):
            bar.write(text, file=sys.stderr)

        def status():
            bar.set_postfix_str(f"{len(finished)} done, {len(running)} training, {len(waiting)} waiting"
                                + (f", {len(failed)} failed" if failed else ""), refresh=True)

        status()
        try:
            with _Signals(running) as signals:
                while waiting or running:
                    while waiting and len(running) < jobs and not signals.count:
                        state = waiting.pop(0)
                        path = output_path(folder, state.run)
                        path.parent.mkdir(parents=True, exist_ok=True)
                        output = open(path, "a", encoding="utf-8")
                        process = subprocess.Popen(
                            child_command(state.run.path), stdin=subprocess.DEVNULL, stdout=output,
                            stderr=subprocess.STDOUT, env=child_environment(), process_group=0)
                        running.append(Running(state, process, output, time.monotonic(), state.episode))
                        say(f"started  {state.run.label} (episode {state.episode} of {state.total})")
                        status()
                    if signals.count and waiting:
                        stopped += [state.run for state in waiting]
                        waiting.clear()
                        say("Stopping: each training run saves a checkpoint at the end of its episode "
                            "(Ctrl-C again to stop them at once)...")
                        status()
                    time.sleep(POLL_SECONDS)
                    for child in list(running):
                        episode = latest_episode(child.state.run.path)
                        if episode > child.counted:
                            bar.update(episode - child.counted)
                            child.counted = episode
                        code = child.process.poll()
                        if code is None:
                            continue
                        child.output.close()
                        running.remove(child)
                        elapsed = format_duration(time.monotonic() - child.started)
                        label = child.state.run.label
                        if code == 0:
                            finished.append(child.state.run)
                            say(f"finished {label} in {elapsed}")
                        elif code in (INTERRUPTED, -signal.SIGINT):
                            stopped.append(child.state.run)
                            say(f"stopped  {label} at episode {episode}")
                        else:
                            failed.append((child.state.run, output_path(folder, child.state.run)))
                            say(f"FAILED   {label}: {last_line(output_path(folder, child.state.run))}")
                        status()
        finally:
            bar.close()
        return _summary(folder_text, len(states), finished, stopped, failed)


def _summary(folder_text, count, finished, stopped, failed):
    if failed:
        print(f"{len(failed)} run(s) failed; the others went on:", file=sys.stderr)
        for run, path in failed:
            print(f"  {run.label}: {last_line(path)} (whole output: {path})", file=sys.stderr)
        print(f"Fix them, then run 'retro-gamer sweep train {folder_text}' again.", file=sys.stderr)
        return 1
    if stopped:
        print(f"Stopped: {len(stopped)} run(s) not finished, each at its latest checkpoint; run "
              f"'retro-gamer sweep train {folder_text}' to resume them all.", file=sys.stderr)
        return INTERRUPTED
    print(f"Done: all {count} runs of {folder_text} are trained. Compare them with 'retro-gamer evaluate {folder_text}' "
          f"and 'retro-gamer plot {folder_text}'.")
    return 0
