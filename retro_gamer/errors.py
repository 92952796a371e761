"""The family of errors a user can cause.

Every failure that comes from what a user typed, edited or pointed us at is a
``RetroGamerError``. The command line catches this one family, prints its
message as one line (or one short block) on stderr and exits with its
``exit_code``: never a Python traceback. Anything else that escapes is a bug
in retro-gamer (or, for ``GameCrashed``, in the game), and shows its traceback.
"""

import os


def shown(folder):
    """A folder as messages show it, with a trailing slash (``runs/snake/``)."""
    return os.path.join(str(folder), "")


class RetroGamerError(Exception):
    """A failure the user can fix; the message says what happened and what to do."""

    exit_code = 1


class ConfigError(RetroGamerError):
    """config.toml (or a command-line option) holds something we cannot use."""

    exit_code = 2


class GameError(RetroGamerError):
    """The game cannot be found, imported, created or described."""


class ObservationError(RetroGamerError):
    """The game's board or state does not fit the configured observation."""


class CheckpointError(RetroGamerError):
    """A checkpoint is missing, damaged, or does not fit the configuration."""


class TrainingError(RetroGamerError):
    """Training cannot go on (for example, the loss became NaN)."""


class TerminalTooSmall(RetroGamerError):
    """The terminal window is smaller than the board plus its border."""


class GameCrashed(RetroGamerError):
    """The game's own code raised an exception.

    It is the game author's bug, so the message carries their traceback
    (``details``) and where in training it happened.
    """

    def __init__(self, message, details=""):
        super().__init__(message)
        self.details = details
