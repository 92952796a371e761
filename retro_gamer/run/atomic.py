"""Files that are never half-written.

A program can be stopped at any instant: Ctrl-C, a kill, a full disk, a
power cut. If it was in the middle of overwriting a file, the file is
left torn: the old contents gone, the new ones incomplete. So every file
retro-gamer writes (config.toml, checkpoints, training.log) is written in
three steps:

1. write the new contents into a temporary file in the same folder
   (``.config.toml.k3j2.tmp``), and flush it to the disk;
2. ``os.replace(temporary, path)``: a rename, which the operating system
   performs all at once: anyone opening ``path`` sees the old file or the
   new one, never a mixture;
3. if anything fails before the rename, remove the temporary file.

A Ctrl-C that lands during those steps waits until they are done (a
write takes milliseconds): the file is finished, then the interrupt goes
on as it would have. Stopping in the middle would leave nothing torn on
disk either, but it can leave Python's own half-built objects behind (a
``zipfile.ZipFile`` interrupted inside its constructor prints a
traceback when it is collected), and the user would see that.
"""

import os
import secrets
import signal
import threading
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def ctrl_c_waits():
    """Hold a Ctrl-C that arrives inside this block and deliver it at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield   # only the main thread receives signals in Python
        return
    held = []
    previous_handler = signal.signal(signal.SIGINT, lambda number, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if held:
        if callable(previous_handler):
            previous_handler(signal.SIGINT, held[0])
        elif previous_handler == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)


def write_atomically(path, write_contents, binary=False):
    """Call ``write_contents(file)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with ctrl_c_waits():
        _write_then_rename(path, temporary, write_contents, binary)


def _write_then_rename(path, temporary, write_contents, binary):
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        if binary:
            handle = os.fdopen(descriptor, "wb")
        else:
            handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="\n")
        with handle:
            write_contents(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomically(path, text):
    """Replace the text file at ``path`` with ``text``, all or nothing."""
    write_atomically(path, lambda handle: handle.write(text))


def remove_leftovers(folder):
    """Delete temporary files a killed process left behind in ``folder`` (``.NAME.XXXX.tmp``)."""
    folder = Path(folder)
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
