"""A training run: its folder on disk and everything in it.

- ``settings.py``      the one table of settings: the frozen ``Settings``
                       object, and whether a checkpoint still fits;
- ``validation.py``    every problem of a configuration, found at once;
- ``config_file.py``   config.toml, read and written with its comments;
- ``folder.py``        ``create``, ``info`` and ``clean``;
- ``session.py``       the ``train`` command around the loop: resuming,
                       repairing the log, Ctrl-C, the progress bar;
- ``checkpoint.py``    checkpoints, and the replay memory beside them;
- ``training_log.py``  the log's line formats, written and parsed in one place;
- ``lock.py``          one trainer per run folder (an operating-system lock);
- ``atomic.py``        every file written so that it is never half-written;
- ``sweep.py``,        a sweep: many ordinary runs (variants x seeds) from
  ``parallel.py``      one plan, trained as separate processes on every core.
"""
