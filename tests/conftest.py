"""Hypothesis profiles: CI replays the same examples every run; a developer's run explores.

Property tests draw new examples on every run unless told otherwise, so the
same commit could pass in one environment and fail in another (issue 17:
``nice_ticks(1.0, 14287.0)`` was found by chance). ``.ci/run`` sets
``HYPOTHESIS_PROFILE=ci``: examples come from a fixed seed and no example
database is read or written, so a red CI means the code changed, not luck.
Without it (``dev``) each run explores new examples, and a failure it finds
should be kept as an explicit ``@example`` next to the test.
"""

import os
import signal

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# A shell that runs the tests in the background (``pytest &``) starts them with
# SIGINT ignored, and every child inherits that: then a test's Ctrl-C to a
# ``play`` or ``train`` subprocess does nothing at all. Taking SIGINT back here
# gives each child Python's ordinary Ctrl-C, as in a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
