"""One trainer per run folder: an operating-system lock on ``RUN_DIR/.lock``.

Two ``retro-gamer train`` on the same folder (a second terminal, a cluster
job requeued while the first one still runs) would both write its
checkpoints and its training.log. So ``train`` and ``clean`` first take an
exclusive lock on the file ``.lock`` inside the run folder, with
``fcntl.flock``; a second process that finds it taken stops at once with a
``RunLocked`` error naming the holder.

The lock belongs to the open file, not to the file on the disk: the
operating system releases it when the holder closes the file or dies in
any way (an exception, Ctrl-C, ``kill -9``, a machine that reboots). So a
lock can never outlive its process, and the ``.lock`` file itself may stay
in the folder forever: it is only the thing that is locked. While the lock
is held the file says who holds it (process id, host and command), so the
second process can name it; after a normal exit it is emptied.

Limits: ``flock`` works on local disks and on NFS (Linux turns it into an
NFS lock that every client sees); some cluster file systems (Lustre, BeeGFS)
need a mount option for it (``flock``), and without it two jobs on different
nodes would not see each other's lock. Where the platform has no ``fcntl``
(Windows) or the folder cannot hold the lock file (a read-only folder, where
training could not save anything anyway) the command runs without a lock.
"""

import functools
import os
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from retro_gamer.errors import RetroGamerError, shown

try:
    import fcntl
except ImportError:  # Windows: no flock; commands run without the lock
    fcntl = None

LOCK_FILE_NAME = ".lock"


class RunLocked(RetroGamerError):
    """Another process is training (or cleaning) this run folder right now."""


def _holder_text():
    command = " ".join(["retro-gamer", *sys.argv[1:]]) if sys.argv else "retro-gamer"
    return (f"pid = {os.getpid()}\nhost = {socket.gethostname()}\ncommand = {command}\n"
            f"started = {datetime.now():%Y-%m-%d %H:%M:%S}\n")


def read_holder(folder):
    """``{pid, host, command, started}`` as the holder wrote them (empty if nobody wrote any)."""
    try:
        text = (Path(folder) / LOCK_FILE_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    holder = {}
    for line in text.splitlines():
        key, equals, value = line.partition(" = ")
        if equals:
            holder[key.strip()] = value.strip()
    return holder


def describe_holder(holder):
    """``process 4242 on lab-07 ('retro-gamer train runs/snake/', since 2026-05-09 14:22:01)``."""
    if not holder.get("pid"):
        return "another process"
    text = f"process {holder['pid']}"
    if holder.get("host") and holder["host"] != socket.gethostname():
        text += f" on {holder['host']}"
    details = [f"'{holder['command']}'"] if holder.get("command") else []
    if holder.get("started"):
        details.append(f"since {holder['started']}")
    return text + (f" ({', '.join(details)})" if details else "")


def _open_lock_file(path):
    """A descriptor of the lock file, or None where it cannot be created (read-only folder)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:
        pass
    try:  # an existing lock file in a folder we may not write: flock needs no write access
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


@contextmanager
def hold_run_lock(folder, action="train"):
    """Hold the folder's lock for the ``with`` block, or raise ``RunLocked`` at once.

    ``action`` completes the message: "cannot train runs/snake/: ...".
    """
    folder = Path(folder)
    descriptor = _open_lock_file(folder / LOCK_FILE_NAME) if fcntl and folder.is_dir() else None
    if descriptor is None:
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = read_holder(folder)
            for _ in range(10):  # the holder may have taken the lock a moment ago, not yet written
                if holder.get("pid"):
                    break
                time.sleep(0.02)
                holder = read_holder(folder)
            raise RunLocked(
                f"cannot {action} {shown(folder)}: {describe_holder(holder)} is using it. "
                "Only one process at a time may train or clean a run (two would write the same "
                "checkpoints). "
                "Wait for it to finish, or stop it (Ctrl-C in its terminal, or "
                f"'kill -INT {holder.get('pid', 'PID')}', which saves a checkpoint) and run the "
                "command again.") from None
        _rewrite(descriptor, _holder_text())
        try:
            yield
        finally:
            _rewrite(descriptor, "")
    finally:
        os.close(descriptor)  # releases the lock (the OS does the same if the process dies)


def _rewrite(descriptor, text):
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, text.encode("utf-8"), 0)
    except OSError:
        pass  # a read-only lock file still locks; only the holder's name is missing


def lock_holder(folder):
    """Who holds the folder's lock now (``{}`` for nobody), without waiting and without keeping it."""
    folder = Path(folder)
    path = folder / LOCK_FILE_NAME
    if fcntl is None or not path.exists():
        return {}
    descriptor = _open_lock_file(path)
    if descriptor is None:
        return {}
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return read_holder(folder) or {"pid": ""}
    finally:
        os.close(descriptor)
    return {}


def holding_run_lock(action):
    """Decorate ``command(run_dir, ...)`` so it runs holding ``run_dir``'s lock.

    A folder without a usable config.toml is not locked: the command itself
    says what is wrong, and no lock file is left in a folder that is not a run.
    """
    def decorate(command):
        @functools.wraps(command)
        def locked_command(run_dir, *arguments, **options):
            from retro_gamer.run.config_file import read_config

            if not (Path(run_dir) / "config.toml").is_file():
                return command(run_dir, *arguments, **options)
            read_config(run_dir)  # a config that cannot be used is refused before the lock file is made
            with hold_run_lock(run_dir, action):
                return command(run_dir, *arguments, **options)
        return locked_command
    return decorate
