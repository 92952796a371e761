"""Saving arrays to disk and reading them back, safely.

A checkpoint is a flat dictionary ``name -> numpy array`` (the network's
weights, Adam's moments, counters...) stored as one ``.npz`` file: a zip
archive holding one ``.npy`` file per array.

Two promises:

* **Opening a file never runs code.** numpy can store arbitrary Python
  objects in an ``.npy`` file by pickling them, and unpickling runs code
  chosen by whoever wrote the file. We load with ``allow_pickle=False``
  (and save the same way), so such a file is refused, not executed.
* **A file is never half-written.** ``save_npz`` writes to a temporary file
  in the same folder and then renames it over the target with
  ``os.replace``, which is atomic: after a crash or Ctrl-C the path holds
  either the old file or the new one. (The temporary file is written
  through an open file object because ``np.savez("x.tmp")`` would quietly
  write ``x.tmp.npz``.)

Every failure becomes a ``CheckpointError`` naming the file and what to do.
"""

import os
import zipfile

import numpy as np

from retro_gamer.run.atomic import write_atomically
from retro_gamer.errors import CheckpointError


def save_npz(path, arrays):
    """Write ``arrays`` (name -> ndarray) to ``path`` atomically, without pickle.

    The file is written exactly at ``path``; no extension is added.
    """
    try:
        write_atomically(path, lambda file: np.savez(file, allow_pickle=False, **arrays), binary=True)
    except OSError as error:
        raise CheckpointError(
            f"Could not write {os.fspath(path)}: {error}. Check that the folder exists "
            "and is writable and that the disk is not full, then try again."
        ) from error


def load_npz(path):
    """Read every array of the ``.npz`` file at ``path`` into a dict.

    Raises CheckpointError if the file is missing, damaged, not an npz file,
    or holds pickled Python objects.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"Checkpoint file {path} does not exist. Check the name and folder.")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an npz archive")
        with archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        if "pickle" in str(error):  # numpy's messages for object arrays and pickle files
            raise CheckpointError(
                f"Refusing to load {path}: it holds pickled Python objects, and "
                "loading those could run code. A retro-gamer checkpoint never "
                "contains any; delete the file or pick another checkpoint."
            ) from error
        raise CheckpointError(
            f"Cannot read checkpoint {path}: it is damaged or is not a retro-gamer "
            f"checkpoint ({error}). Delete it or pick another checkpoint."
        ) from error

def checked_array(arrays, name, expected_shape):
    """``arrays[name]``, or CheckpointError if it is missing or has another shape."""
    if name not in arrays:
        raise CheckpointError(
            f"The checkpoint has no array '{name}'. It was written by another "
            "version or for another network; start fresh or pick another checkpoint."
        )
    array = np.asarray(arrays[name])
    if array.shape != tuple(expected_shape):
        raise CheckpointError(
            f"The checkpoint's array '{name}' has shape {array.shape}, but this "
            f"network needs {tuple(expected_shape)}. The network's shape changed "
            "since the checkpoint was written; start fresh or restore the old "
            "configuration."
        )
    return array
