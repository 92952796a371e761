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
"""

import os
import secrets
from pathlib import Path


def write_atomically(path, write_contents, binary=False):
    """Call ``write_contents(file)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
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
