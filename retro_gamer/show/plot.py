"""How did training go? Learning curves from training.log, in the terminal or as SVG.

``retro-gamer plot RUN_DIR [RUN_DIR ...]`` reads each run's training.log and
draws one panel per metric, each against the episode number (the last
episode of each checkpoint line)::

    avg_reward   mean total reward per episode
    avg_steps    mean turns per episode
    avg_loss     mean Huber loss of the learning steps
    epsilon      exploration rate

Several runs share each panel so they can be compared. ``--metric`` draws
one panel only.

This module gathers the data: a panel is a title and one series
``(run label, episodes, values)`` per run. Two modules draw it, on the same
scales (``chart_scales.py``):

* ``braille_chart.py`` draws each panel as a chart of braille characters on
  the terminal, in colour where the terminal shows colour;
* ``svg_chart.py`` writes every panel into one SVG file (``--output
  curves.svg``), for a browser or a report.
"""

import os
import shutil
import sys
from pathlib import Path

from retro_gamer.errors import ConfigError, RetroGamerError
from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.run.training_log import LOG_FILE_NAME, read_log
from retro_gamer.show.svg_chart import render_svg
from retro_gamer.show.terminal import color_enabled

METRICS = ("avg_reward", "avg_steps", "avg_loss", "epsilon")

METRIC_DESCRIPTIONS = {
    "avg_reward": "mean total reward per episode",
    "avg_steps": "mean turns per episode",
    "avg_loss": "mean Huber loss of the learning steps",
    "epsilon": "exploration rate",
}

# Rows of braille cells per chart: four panels fit on one screen, a single one gets more.
PANEL_ROWS = 8
SINGLE_PANEL_ROWS = 16

# ---------------------------------------------------------------------------
# The data: one panel per metric, one series per run
# ---------------------------------------------------------------------------


def load_run_entries(run_dir: str):
    """The checkpoint entries of one run, ordered by episode.

    If a resumed session ran some episodes again (a kill after a log line
    but before its checkpoint), the later line for an episode wins.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RetroGamerError(
            f"no run folder {folder}/: make one with "
            f"'retro-gamer create --game GAME --output {folder}/'"
        )
    log = read_log(folder / LOG_FILE_NAME)
    if not log.entries:
        raise RetroGamerError(
            f"{LOG_FILE_NAME} in {folder}/ has no checkpoint lines yet: one is written at "
            f"each checkpoint, so let 'retro-gamer train {folder}/' reach its first "
            "checkpoint, then plot again"
        )
    latest = {entry.last_episode: entry for entry in log.entries}
    return [latest[episode] for episode in sorted(latest)]


def run_labels(run_dirs: list[str]) -> list[str]:
    """Legend labels: each run folder's name, or its whole path when two names clash."""
    names = [Path(run_dir).resolve().name or str(run_dir) for run_dir in run_dirs]
    if len(set(names)) == len(names):
        return names
    return [str(Path(run_dir)) for run_dir in run_dirs]


def build_panels(run_dirs: list[str], metrics) -> list:
    """[(title, [(run label, episodes, values), ...]), ...]: one panel per metric."""
    runs = [load_run_entries(run_dir) for run_dir in run_dirs]
    labels = run_labels(run_dirs)
    panels = []
    for metric in metrics:
        series = [
            (
                label,
                [entry.last_episode for entry in entries],
                [getattr(entry, metric) for entry in entries],
            )
            for label, entries in zip(labels, runs)
        ]
        panels.append((f"{metric}: {METRIC_DESCRIPTIONS[metric]}", series))
    return panels


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def command_plot(run_dirs: list[str], metric: str | None, output: str | None,
                 width: int | None, stream=None) -> int:
    """``retro-gamer plot``: draw the curves on the terminal, or write them to an SVG file."""
    stream = stream or sys.stdout
    if metric is not None and metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    if width is not None and width < 1:
        raise ConfigError(f"--width must be a positive number of columns, not {width}")
    metrics = [metric] if metric else list(METRICS)
    panels = build_panels(run_dirs, metrics)
    if output:
        write_svg_file(output, panels)
        panel_count = f"{len(panels)} panel{'s' if len(panels) != 1 else ''}"
        run_count = f"{len(run_dirs)} run{'s' if len(run_dirs) != 1 else ''}"
        print(f"wrote {output} ({panel_count}, {run_count})", file=stream)
    else:
        width = width or shutil.get_terminal_size().columns
        print(terminal_charts(panels, width, color_enabled(stream, os.environ)), file=stream)
    return 0


def write_svg_file(output: str, panels) -> None:
    """Write every panel into one SVG file, whole or not at all."""
    try:
        write_text_atomically(output, render_svg(panels))
    except OSError as error:
        raise RetroGamerError(
            f"cannot write {output}: {error.strerror}; check that its folder exists "
            "and is writable"
        ) from None


def terminal_charts(panels, width: int, color: bool) -> str:
    """Every panel as a braille chart ``width`` columns wide, a blank line between two."""
    # Imported here, not at the top: braille_chart needs numpy, and the command
    # line reads METRICS from this module to build its --help, which must not
    # wait for numpy to load.
    from retro_gamer.show.braille_chart import render_terminal_chart

    rows = SINGLE_PANEL_ROWS if len(panels) == 1 else PANEL_ROWS
    charts = [render_terminal_chart(series, width, rows, color, title)
              for title, series in panels]
    return "\n\n".join(charts)
