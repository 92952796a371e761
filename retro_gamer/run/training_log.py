"""What does training.log say, and how is it written?

``training.log`` in a run folder is the long view of a training run. It is
plain text, meant to be read with ``cat``, and this module is the only place
that knows its line formats: the trainer writes it through these functions,
and ``plot``, ``info`` and a resumed training read it back through them.

The file holds three kinds of lines. First a header, written once when a
run starts: the network, layer by layer (``QNetwork.describe()``), what the
agent sees (``ObservationLayout.describe()``) and a blank line. Then one
checkpoint line per checkpoint, and a resume line wherever a session took
over from a checkpoint. A Snake run (the built-in description, the default
settings but ``--max-turns-per-episode 200``), trained for 300 episodes and
then resumed::

    Network architecture:
      Q-network, MLP: board 5x5 (7 codes) + 2 state values -> 5 Q-values
        dense1.board  CodeLinear  one-hot 7x5x5 -> 128              22,528 parameters
        dense1.state  Linear      state 2 -> 128 (added)            256 parameters
        relu1         ReLU        128 -> 128
        dense2        Linear      128 -> 64                         8,256 parameters
        relu2         ReLU        64 -> 64
        dense3        Linear      64 -> 5                           325 parameters
        total 31,365 parameters
    Observation:
      board: 5 x 5 cells (height x width)
      channels: 7 (code 0 = empty): 1 '@', 2 '*', 3 '>', 4 '<', 5 '^', 6 'v', 7 edge (beyond the board's edge)
      state: apple_dx (1 value)
      state: apple_dy (1 value)

    [ep_0100] ep=0001-0100 avg_reward= +4.0 avg_steps=61 epsilon=0.366 avg_loss=0.0014 time=0m03s total=0m03s
    [ep_0200] ep=0101-0200 avg_reward=+51.5 avg_steps=54 epsilon=0.134 avg_loss=0.0044 time=0m04s total=0m07s
    [ep_0300] ep=0201-0300 avg_reward=+119.5 avg_steps=57 epsilon=0.050 avg_loss=0.014 time=0m06s total=0m13s
    === Resumed from ep_0300.npz | 2026-12-01 09:03:18 ===
    [ep_0400] ep=0301-0400 avg_reward=+218.0 avg_steps=99 epsilon=0.050 avg_loss=0.039 time=0m13s total=0m25s

Only the checkpoint and resume lines have a fixed format; any other line
before the first checkpoint line belongs to the header.

One checkpoint line sums up the episodes since the previous checkpoint:

- ``avg_reward`` = (1/N) * sum of the N episodes' total rewards, printed
  with a sign and at least five columns wide (``{:+5.1f}``), so small
  values line up;
- ``avg_steps``  = mean number of turns per episode, a whole number;
- ``epsilon``    = the exploration rate after the last of those episodes;
- ``avg_loss``   = mean Huber loss of the learning steps in the interval
  (``nan`` when no learning step happened yet);
- ``time``       = wall-clock time of the interval, ``total`` = of the run.

The trainer keeps every line in memory and rewrites the whole file at each
checkpoint (``write_training_log``), through a temporary file and
``os.replace``: a run killed at any moment leaves either the old file or the
new one, never a torn line.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.errors import RetroGamerError, TrainingError

LOG_FILE_NAME = "training.log"


@dataclass
class LogEntry:
    """One checkpoint line: the summary of episodes first_episode..last_episode."""

    name: str
    first_episode: int
    last_episode: int
    avg_reward: float
    avg_steps: float
    epsilon: float
    avg_loss: float
    time_seconds: float
    total_seconds: float


@dataclass
class TrainingLog:
    """A parsed training.log.

    ``header`` holds the lines before the first checkpoint line (the network
    architecture), ``entries`` the checkpoint lines in file order, and
    ``resumes`` every ``=== Resumed from ... ===`` line, verbatim.
    """

    header: list[str] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    resumes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Writing lines
# ---------------------------------------------------------------------------


def format_episode(episode: int) -> str:
    """An episode number as the log prints it: 4 digits, zero-padded (0042, 12000)."""
    return f"{episode:04d}"


def checkpoint_name(episode: int) -> str:
    """The name of the checkpoint taken after ``episode``: ``ep_0100``, ``ep_12000``."""
    return f"ep_{format_episode(episode)}"


def format_duration(seconds: float) -> str:
    """Whole seconds as ``{minutes}m{seconds:02d}s``; minutes may exceed 59 (``75m03s``)."""
    whole_seconds = max(0, round(seconds))
    minutes, seconds_left = divmod(whole_seconds, 60)
    return f"{minutes}m{seconds_left:02d}s"


def format_loss(loss: float) -> str:
    """One decimal for ordinary losses; two significant digits below 0.1.

    A converged loss of 0.0003 must not print as ``0.0``, so small values
    switch to the general format (``0.0003``, ``1.2e-05``). NaN prints ``nan``.
    """
    if math.isnan(loss):
        return "nan"
    if abs(loss) >= 0.1:
        return f"{loss:.1f}"
    return f"{loss:.2g}"


def format_checkpoint_line(entry: LogEntry) -> str:
    """The log line of one checkpoint (see the module docstring for the fields)."""
    return (
        f"[{entry.name}]"
        f" ep={format_episode(entry.first_episode)}-{format_episode(entry.last_episode)}"
        f" avg_reward={entry.avg_reward:+5.1f}"
        f" avg_steps={entry.avg_steps:.0f}"
        f" epsilon={entry.epsilon:.3f}"
        f" avg_loss={format_loss(entry.avg_loss)}"
        f" time={format_duration(entry.time_seconds)}"
        f" total={format_duration(entry.total_seconds)}"
    )


def format_resume_line(checkpoint_file: str, when: datetime) -> str:
    """The line that marks a resumed session: ``=== Resumed from ep_0500.npz | 2026-05-09 14:22:01 ===``."""
    return f"=== Resumed from {checkpoint_file} | {when:%Y-%m-%d %H:%M:%S} ==="


# ---------------------------------------------------------------------------
# Reading lines
# ---------------------------------------------------------------------------

# A number as the log prints it: optional sign, digits, decimals, exponent, or nan/inf.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|nan|inf)"

CHECKPOINT_LINE = re.compile(
    r"^\[(?P<name>ep_\d+)\]"
    r"\s+ep=(?P<first_episode>\d+)-(?P<last_episode>\d+)"
    rf"\s+avg_reward=\s*(?P<avg_reward>{_NUMBER})"
    rf"\s+avg_steps=\s*(?P<avg_steps>{_NUMBER})"
    rf"\s+epsilon=\s*(?P<epsilon>{_NUMBER})"
    rf"\s+avg_loss=\s*(?P<avg_loss>{_NUMBER})"
    r"\s+time=(?P<time_minutes>\d+)m(?P<time_seconds>\d+)s"
    r"\s+total=(?P<total_minutes>\d+)m(?P<total_seconds>\d+)s\s*$",
    re.IGNORECASE,
)

RESUME_LINE = re.compile(r"^=== Resumed from .+ ===\s*$")


def parse_checkpoint_line(line: str) -> LogEntry | None:
    """The LogEntry a checkpoint line holds, or None if the line is not one."""
    match = CHECKPOINT_LINE.match(line.strip())
    if match is None:
        return None
    fields = match.groupdict()
    return LogEntry(
        name=fields["name"],
        first_episode=int(fields["first_episode"]),
        last_episode=int(fields["last_episode"]),
        avg_reward=float(fields["avg_reward"]),
        avg_steps=float(fields["avg_steps"]),
        epsilon=float(fields["epsilon"]),
        avg_loss=float(fields["avg_loss"]),
        time_seconds=60 * int(fields["time_minutes"]) + int(fields["time_seconds"]),
        total_seconds=60 * int(fields["total_minutes"]) + int(fields["total_seconds"]),
    )


def parse_log(text: str) -> TrainingLog:
    """Split the text of a training.log into header, checkpoint entries and resume lines.

    Tolerant: a line that is neither a checkpoint nor a resume line belongs
    to the header when it comes before the first checkpoint, and is skipped
    after it (someone may have edited the file by hand).
    """
    log = TrainingLog()
    for line in text.splitlines():
        entry = parse_checkpoint_line(line)
        if entry is not None:
            log.entries.append(entry)
        elif RESUME_LINE.match(line.strip()):
            log.resumes.append(line.strip())
        elif not log.entries:
            log.header.append(line)
    return log


def read_log(path) -> TrainingLog:
    """Read and parse the training.log at ``path``.

    A missing or empty file is a RetroGamerError that tells the user to
    train first: ``plot`` and ``evaluate`` have nothing to show before that.
    """
    path = Path(path)
    run_dir = f"{path.parent}/"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise RetroGamerError(
            f"no {path.name} in {run_dir}: run 'retro-gamer train {run_dir}' first"
        ) from None
    except OSError as error:
        raise RetroGamerError(
            f"cannot read {path}: {error.strerror}; check that it is a readable file"
        ) from None
    if not text.strip():
        raise RetroGamerError(
            f"{path.name} in {run_dir} is empty: run 'retro-gamer train {run_dir}' "
            "and wait for the first checkpoint"
        )
    return parse_log(text)


# ---------------------------------------------------------------------------
# Writing the file
# ---------------------------------------------------------------------------


def write_log_atomically(path, lines: list[str]) -> None:
    """Write the whole training.log (one line per item) through a temporary file."""
    write_text_atomically(path, "".join(line + "\n" for line in lines))


def write_training_log(run_dir, lines: list[str], what_happened: str = "") -> None:
    """Write ``RUN_DIR/training.log``; a failure is a TrainingError that says what to do.

    ``what_happened`` starts the message when something was done just before
    (``"checkpoint ep_0200 was saved, but "``).
    """
    try:
        write_log_atomically(Path(run_dir) / LOG_FILE_NAME, lines)
    except OSError as error:
        raise TrainingError(
            f"{what_happened}{Path(run_dir) / LOG_FILE_NAME} could not be written: {error}. "
            f"The checkpoints are untouched; make {run_dir} writable (or free disk space) and "
            "train again.") from None
