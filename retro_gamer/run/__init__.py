"""A training run: its folder on disk and everything in it.

``settings.py`` is the one table of settings and the ``Settings`` object
built from it; ``config_file.py`` reads and writes ``config.toml``;
``folder.py`` creates, describes and cleans a run; ``checkpoint.py`` saves
and loads checkpoints (and the replay memory beside them);
``training_log.py`` holds the log's line formats; ``session.py`` is the
``train`` command around the loop (resuming, Ctrl-C, log repair);
``atomic.py`` writes every file so that it is never half-written.
"""
