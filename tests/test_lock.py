"""One trainer per run folder: a second train (or a clean) stops at once; a killed holder never blocks."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_helpers import create_catch_run, run_cli, run_main, set_setting
from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.lock import LOCK_FILE_NAME, hold_run_lock, lock_holder


def start_training(run_dir):
    """A real ``retro-gamer train`` in the background; returns once it holds the lock."""
    process = subprocess.Popen([sys.executable, "-m", "retro_gamer", "train", str(run_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while lock_holder(run_dir).get("pid") != str(process.pid):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "train never took the lock"
        time.sleep(0.05)
    return process


def wait_for_checkpoint(run_dir, process):
    deadline = time.monotonic() + 60
    while not checkpoints.list_checkpoints(run_dir):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_second_train_stops_at_once_naming_the_first_then_a_sigkill_frees_the_run(tmp_path):
    run_dir = create_catch_run(tmp_path / "run", "--training-episodes", "100000")
    first = start_training(run_dir)
    try:
        wait_for_checkpoint(run_dir, first)
        # In this process: the command itself answers within a second.
        started = time.monotonic()
        code, _, err = run_main(["train", run_dir])
        assert time.monotonic() - started < 1.0
        assert code == 1
        assert f"process {first.pid} ('retro-gamer train {run_dir}'" in err
        assert err.startswith("error: cannot train ") and "Traceback" not in err
        # As a user runs it (the interpreter's start-up included).
        code, _, err = run_cli(["train", run_dir], timeout=30)
        assert code == 1 and f"process {first.pid}" in err and len(err.strip().splitlines()) == 1
        # clean respects the lock too, and removes nothing.
        before = [path.name for path in checkpoints.list_checkpoints(run_dir)]
        code, _, err = run_cli(["clean", run_dir, "--yes"], timeout=30)
        assert code == 1 and f"cannot clean {run_dir}/: process {first.pid}" in err
        assert set(before) <= {path.name for path in checkpoints.list_checkpoints(run_dir)}
        assert (run_dir / "training.log").exists()
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    assert (run_dir / LOCK_FILE_NAME).exists()  # the file outlives the process; its lock does not
    latest = checkpoints.list_checkpoints(run_dir)[-1]
    set_setting(run_dir, "training", "training_episodes", str(checkpoints.episode_of(latest) + 2))
    started = time.monotonic()
    code, out, err = run_cli(["train", run_dir], timeout=60)
    assert code == 0, err
    assert f"Resuming from {latest.name}" in err
    assert time.monotonic() - started < 30
    assert lock_holder(run_dir) == {}
    assert (run_dir / LOCK_FILE_NAME).read_text() == ""  # emptied by the normal exit


def test_the_lock_is_held_during_train_and_clean_and_names_its_holder(tmp_path):
    run_dir = create_catch_run(tmp_path / "run", "--training-episodes", "3")
    with hold_run_lock(run_dir, "train"):
        assert lock_holder(run_dir)["pid"] == str(os.getpid())
        code, _, err = run_main(["train", run_dir])
        assert code == 1 and f"process {os.getpid()}" in err
        code, _, err = run_main(["clean", run_dir, "--yes"])
        assert code == 1 and "cannot clean" in err
    assert lock_holder(run_dir) == {}
    assert run_main(["train", run_dir])[0] == 0
    assert run_main(["clean", run_dir, "--yes"])[0] == 0


def test_a_folder_that_is_not_a_run_gets_no_lock_file(tmp_path):
    code, _, err = run_main(["train", tmp_path])
    assert code != 0 and "Traceback" not in err
    assert not (Path(tmp_path) / LOCK_FILE_NAME).exists()
