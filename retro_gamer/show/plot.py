"""How did training go? Learning curves from training.log, in the terminal or as SVG.

``retro-gamer plot RUN_DIR [RUN_DIR ...]`` reads each run's training.log and
draws avg_reward, avg_steps, avg_loss and epsilon against the episode number
(the last episode of each checkpoint line). Several runs share each panel so
they can be compared.

Scaling. A value v between the lowest value ``low`` and the highest ``high``
lands on dot

    dot = round((v - low) / (high - low) * (dots - 1))

counted from the bottom (y) or from the left (x). The x axis starts at
episode 0, so runs of different lengths line up and a single checkpoint
still has a place. A constant series gets a range around its value
(``v - pad .. v + pad``) so it draws as a flat line in the middle instead of
dividing by zero. NaN (an interval without learning steps has no loss) and
infinities are skipped; the line joins the values on either side.

Braille in the terminal. Each Unicode braille character (U+2800 to U+28FF)
is a cell of 2 x 4 dots, and each dot is one bit of the code point::

    bit of each dot   column 0   column 1
              row 0     0x01       0x08
              row 1     0x02       0x10
              row 2     0x04       0x20
              row 3     0x40       0x80

    character = chr(0x2800 + mask),  mask = OR of the bits of the dots set

so a terminal W cells wide and H cells tall is a canvas of 2W x 4H dots.
Each run is drawn in its own ANSI colour. Without colour (output is not a
terminal, ``NO_COLOR`` is set, or ``TERM=dumb``) runs drawn over each other
could not be told apart, so each run gets its own chart, one under the
other, on the same scales.

``--output curves.svg`` writes the same panels as an SVG file drawn by hand:
one polyline per run per panel, with a dot (and a tooltip) per checkpoint
when there are not too many to tell apart.
"""

import math
import os
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.errors import ConfigError, RetroGamerError
from retro_gamer.run.training_log import LOG_FILE_NAME, read_log

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
MIN_PLOT_COLUMNS = 8

# ---------------------------------------------------------------------------
# Scales, shared by the terminal and the SVG
# ---------------------------------------------------------------------------


def finite_values(values) -> list[float]:
    """The values that can be drawn: no NaN, no infinity."""
    return [float(value) for value in values if math.isfinite(value)]


def value_range(values) -> tuple[float, float]:
    """(low, high) of the y axis for these values; never an empty range.

    A constant series v gets v - pad .. v + pad with pad = 10% of |v| (1 when
    v is 0). Without any finite value the range is 0 .. 1 and nothing is drawn.
    """
    drawable = finite_values(values)
    if not drawable:
        return 0.0, 1.0
    low, high = min(drawable), max(drawable)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    return low, high


def episode_range(episodes) -> tuple[float, float]:
    """(low, high) of the x axis: from episode 0 (or lower) to the last episode."""
    drawable = finite_values(episodes)
    low = min([0.0] + drawable)
    high = max([low + 1.0] + drawable)
    return low, high


def to_fraction(value: float, low: float, high: float) -> float:
    """Where value sits between low (0.0) and high (1.0)."""
    return (value - low) / (high - low)


def nice_ticks(low: float, high: float, about: int = 5) -> list[float]:
    """Round values between low and high for axis ticks, about ``about`` intervals.

    The step between ticks is 1, 2 or 5 times a power of ten. The ticks are
    the multiples of the step that fall in [low, high]; of the candidate
    steps, the one whose ticks number closest to ``about + 1`` wins, and a
    tie goes to the larger step. Counting the ticks themselves, not the
    range divided by the step, matters where the range starts just past a
    multiple: 1..14287 cut in steps of 5000 gives only 5000 and 10000, in
    steps of 2000 it gives 2000, 4000, ..., 14000. Fewer than 3 ticks are
    chosen only when no step gives more. Examples: 0..1000 gives
    0, 200, ..., 1000; 16..140 gives 20, 40, ..., 140; -31.4..9.0 gives
    -30, -20, -10, 0.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    span = high - low
    power = math.floor(math.log10(span / about))
    candidates = [multiple * 10.0 ** exponent
                  for exponent in (power - 1, power, power + 1) for multiple in (1, 2, 5)]

    def tick_range(step):
        return math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)

    def badness(step):
        first, last = tick_range(step)
        count = last - first + 1
        return (count < 3, abs(count - (about + 1)), -step)

    step = min(candidates, key=badness)
    first, last = tick_range(step)
    # Rounding to two digits below the step trims float noise such as
    # 0.30000000000000004.
    digits = max(0, 2 - math.floor(math.log10(step)))
    return [round(index * step, digits) for index in range(first, last + 1)]


def format_axis_value(value: float) -> str:
    """A short label: whole numbers as integers, others with 4 significant digits."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


# ---------------------------------------------------------------------------
# Braille canvas
# ---------------------------------------------------------------------------

# Terminal colours (cyan, yellow, magenta, green, red, blue), one per run.
COLORS = ("\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m", "\x1b[31m", "\x1b[34m")
RESET = "\x1b[0m"
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
LEGEND_MARK = "\u28ff\u28ff"  # two full braille cells

# BRAILLE_BITS[row][column]: the bit of a dot inside one 2 x 4 braille cell.
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def dot_masks(xs, ys, x_span, y_span, columns: int, rows: int) -> np.ndarray:
    """Draw one series as braille dots; returns the (rows, columns) array of cell masks.

    Consecutive drawable points are joined by a straight line: we walk
    ``steps = max(|dx|, |dy|)`` dots from one to the next, so no dot is
    skipped whatever the slope.
    """
    masks = np.zeros((rows, columns), dtype=np.uint8)
    dots_wide, dots_tall = 2 * columns, 4 * rows
    points = [
        (
            round(to_fraction(x, *x_span) * (dots_wide - 1)),
            dots_tall - 1 - round(to_fraction(y, *y_span) * (dots_tall - 1)),
        )
        for x, y in zip(xs, ys)
        if math.isfinite(x) and math.isfinite(y)
    ]
    segments = list(zip(points, points[1:])) or [(point, point) for point in points]
    for (x0, y0), (x1, y1) in segments:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for step in range(steps + 1):
            dot_x = round(x0 + (x1 - x0) * step / steps)
            dot_y = round(y0 + (y1 - y0) * step / steps)
            masks[dot_y // 4, dot_x // 2] |= BRAILLE_BITS[dot_y % 4][dot_x % 2]
    return masks


def braille_rows(mask_layers: list[np.ndarray], colors: list[str]) -> list[str]:
    """Overlay several runs' masks into text rows, each run in its colour.

    A cell shows the dots of every run; it takes the colour of the last run
    that has a dot in it. An empty colour string means no colour codes.
    Cells without dots are spaces.
    """
    rows = []
    for row_index in range(mask_layers[0].shape[0]):
        text, current_color = "", ""
        for column_index in range(mask_layers[0].shape[1]):
            cell_mask, cell_color = 0, ""
            for masks, color in zip(mask_layers, colors):
                if masks[row_index, column_index]:
                    cell_mask |= int(masks[row_index, column_index])
                    cell_color = color
            if cell_color != current_color:
                text += cell_color or RESET
                current_color = cell_color
            text += chr(0x2800 + cell_mask) if cell_mask else " "
        rows.append(text + (RESET if current_color else ""))
    return rows


# ---------------------------------------------------------------------------
# Terminal text: colour choice and display widths
# ---------------------------------------------------------------------------

def use_color(stream) -> bool:
    """Colour only on a terminal, and not when NO_COLOR is set or TERM is dumb."""
    is_terminal = getattr(stream, "isatty", lambda: False)()
    return is_terminal and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def display_width(text: str) -> int:
    """Columns the text takes on a terminal: ANSI codes take none, wide characters two."""
    width = 0
    for character in ANSI_CODE.sub("", text):
        if unicodedata.combining(character):
            continue
        width += 2 if unicodedata.east_asian_width(character) in "WF" else 1
    return width


def fit_to_width(text: str, width: int) -> str:
    """Plain text cut (ending in '...') or padded with spaces to exactly ``width`` columns."""
    if display_width(text) > width:
        while text and display_width(text) > width - 3:
            text = text[:-1]
        text = text + "..." if width >= 3 else ""
    return text + " " * (width - display_width(text))


def pad_line(line: str, width: int) -> str:
    """A line holding ANSI codes, padded with spaces to ``width`` columns."""
    return line + " " * (width - display_width(line))


def legend_lines(labels: list[str], colors: list[str], width: int) -> list[str]:
    """``⣿⣿ label`` items, wrapped to the width; each mark in its run's colour."""
    lines, line, line_width = [], "", 0
    for label, color in zip(labels, colors):
        label = fit_to_width(label, width - 3).rstrip()
        item_width = 3 + display_width(label)
        separator = "   " if line else ""
        if line and line_width + len(separator) + item_width > width:
            lines.append(pad_line(line, width))
            line, line_width, separator = "", 0, ""
        mark = color + LEGEND_MARK + RESET if color else LEGEND_MARK
        line += f"{separator}{mark} {label}"
        line_width += len(separator) + item_width
    lines.append(pad_line(line, width))
    return lines


# ---------------------------------------------------------------------------
# One terminal chart
# ---------------------------------------------------------------------------


def render_terminal_chart(series, width: int, height: int, color: bool, title: str = "") -> str:
    """Draw series [(label, xs, ys), ...] as braille text, every line ``width`` columns.

    ``height`` is the number of text rows of each plot area. With colour the
    runs are overlaid in distinct colours; without it (or with more runs than
    colours) each run gets its own plot area, one under the other, on the
    same scales, headed by its legend entry.
    """
    x_span = episode_range([x for _, xs, _ in series for x in xs])
    all_ys = [y for _, _, ys in series for y in ys]
    y_span = value_range(all_ys)
    has_values = bool(finite_values(all_ys))
    top_label = format_axis_value(y_span[1]) if has_values else "nan"
    bottom_label = format_axis_value(y_span[0]) if has_values else "nan"
    label_width = max(len(top_label), len(bottom_label))
    columns = width - label_width - 2
    if columns < MIN_PLOT_COLUMNS or height < 2:
        raise ConfigError(
            f"a chart {width} columns wide and {height} rows tall is too small to draw: "
            f"use --width {label_width + 2 + MIN_PLOT_COLUMNS} or more"
        )

    def axis_rows(text_rows):
        """Prefix plot rows with the y axis: max on the top row, min on the bottom one."""
        prefixed = []
        for index, text in enumerate(text_rows):
            if index == 0:
                prefix = f"{top_label:>{label_width}} ┤"
            elif index == len(text_rows) - 1:
                prefix = f"{bottom_label:>{label_width}} ┤"
            else:
                prefix = " " * label_width + " │"
            prefixed.append(pad_line(prefix + text, width))
        return prefixed

    labels = [label for label, _, _ in series]
    masks = [dot_masks(xs, ys, x_span, y_span, columns, height) for _, xs, ys in series]
    overlaid = len(series) == 1 or (color and len(series) <= len(COLORS))
    run_colors = list(COLORS[: len(series)]) if color and overlaid else [""] * len(series)
    lines = [fit_to_width(title, width)] if title else []
    if overlaid:
        lines += axis_rows(braille_rows(masks, run_colors))
    else:
        for label, run_masks in zip(labels, masks):
            lines += legend_lines([label], [""], width)
            lines += axis_rows(braille_rows([run_masks], [""]))
    lines.append(" " * label_width + " └" + "─" * columns)
    lines.append(" " * (label_width + 2) + episode_axis_labels(x_span, columns))
    if overlaid:
        lines += legend_lines(labels, run_colors, width)
    return "\n".join(lines)


def episode_axis_labels(x_span, columns: int) -> str:
    """The x range under the axis: first episode at the left, last at the right."""
    left, right = format_axis_value(x_span[0]), format_axis_value(x_span[1])
    gap = columns - len(left) - len(right)
    if gap < 1:
        return right.rjust(columns)[-columns:]
    middle = "episode" if gap >= len("episode") + 2 else ""
    return left + middle.center(gap) + right


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------

SVG_WIDTH = 760
SVG_PANEL_HEIGHT = 240
SVG_MARGIN = {"left": 80, "right": 24, "top": 34, "bottom": 46}
SVG_LEGEND_ROW = 20
SVG_COLORS = ("#0077bb", "#ee7733", "#009988", "#cc3311", "#33bbee", "#ee3377", "#555555")
SVG_TICKS = 5  # about this many ticks on each axis
SVG_MAX_DOTS = 200  # beyond this many checkpoints the dots would merge into a thick line


def svg_number(value: float) -> str:
    """A coordinate with two decimals: enough for a screen, short in the file."""
    return f"{value:.2f}"


def render_svg(panels) -> str:
    """A standalone SVG document: a legend, then one panel per (title, series) pair.

    Every panel draws its series [(label, xs, ys), ...] on its own scales;
    the runs keep the same colour in every panel.
    """
    labels = [label for label, _, _ in panels[0][1]] if panels else []
    colors = [SVG_COLORS[index % len(SVG_COLORS)] for index in range(len(labels))]
    legend_height = 12 + SVG_LEGEND_ROW * len(labels)
    total_height = legend_height + SVG_PANEL_HEIGHT * len(panels)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{total_height}"'
        f' viewBox="0 0 {SVG_WIDTH} {total_height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{SVG_WIDTH}" height="{total_height}" fill="white"/>',
    ]
    for index, (label, color) in enumerate(zip(labels, colors)):
        y = 16 + SVG_LEGEND_ROW * index
        parts.append(
            f'<line x1="{SVG_MARGIN["left"]}" y1="{y}" x2="{SVG_MARGIN["left"] + 24}" y2="{y}"'
            f' stroke="{color}" stroke-width="3"/>'
            f'<text x="{SVG_MARGIN["left"] + 32}" y="{y + 4}">{escape(label)}</text>'
        )
    for index, (title, series) in enumerate(panels):
        top = legend_height + SVG_PANEL_HEIGHT * index
        parts += svg_panel(title, series, colors, top)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg_panel(title: str, series, colors: list[str], top: float) -> list[str]:
    """The elements of one panel whose box starts ``top`` pixels down the page."""
    left = SVG_MARGIN["left"]
    plot_top = top + SVG_MARGIN["top"]
    plot_width = SVG_WIDTH - SVG_MARGIN["left"] - SVG_MARGIN["right"]
    plot_height = SVG_PANEL_HEIGHT - SVG_MARGIN["top"] - SVG_MARGIN["bottom"]
    x_span = episode_range([x for _, xs, _ in series for x in xs])
    all_ys = [y for _, _, ys in series for y in ys]
    y_span = value_range(all_ys)

    def pixel_x(x):
        return left + to_fraction(x, *x_span) * plot_width

    def pixel_y(y):
        return plot_top + (1 - to_fraction(y, *y_span)) * plot_height

    parts = [
        '<g class="panel">',
        f'<text x="{left}" y="{svg_number(plot_top - 12)}" font-size="14"'
        f' font-weight="bold">{escape(title)}</text>',
        f'<rect class="plot-area" x="{left}" y="{svg_number(plot_top)}"'
        f' width="{plot_width}" height="{plot_height}" fill="none" stroke="black"/>',
    ]
    for episode in nice_ticks(*x_span, about=SVG_TICKS):
        x = svg_number(pixel_x(episode))
        bottom = svg_number(plot_top + plot_height)
        parts.append(
            f'<line class="x-tick" x1="{x}" y1="{bottom}" x2="{x}"'
            f' y2="{svg_number(plot_top + plot_height + 5)}" stroke="black"/>'
            f'<text x="{x}" y="{svg_number(plot_top + plot_height + 18)}"'
            f' text-anchor="middle">{escape(format_axis_value(episode))}</text>'
        )
    if finite_values(all_ys):
        for value in nice_ticks(*y_span, about=SVG_TICKS):
            y = svg_number(pixel_y(value))
            parts.append(
                f'<line class="y-tick" x1="{left - 5}" y1="{y}" x2="{left + plot_width}" y2="{y}"'
                f' stroke="#dddddd"/>'
                f'<text x="{left - 8}" y="{y}" text-anchor="end"'
                f' dominant-baseline="middle">{escape(format_axis_value(value))}</text>'
            )
    parts.append(
        f'<text x="{left + plot_width / 2}" y="{svg_number(plot_top + plot_height + 36)}"'
        f' text-anchor="middle">episode</text>'
    )
    if not finite_values(all_ys):
        parts.append(
            f'<text x="{left + plot_width / 2}" y="{svg_number(plot_top + plot_height / 2)}"'
            f' text-anchor="middle" fill="#888888">no values yet (nan)</text>'
        )
    for (label, xs, ys), color in zip(series, colors):
        drawable = [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
        point_text = " ".join(
            f"{svg_number(pixel_x(x))},{svg_number(pixel_y(y))}" for x, y in drawable
        )
        parts.append(
            f'<polyline class="series" data-run={quoteattr(label)} points="{point_text}"'
            f' fill="none" stroke="{color}" stroke-width="2"/>'
        )
        dots = drawable if len(drawable) <= SVG_MAX_DOTS else []
        parts += [
            f'<circle cx="{svg_number(pixel_x(x))}" cy="{svg_number(pixel_y(y))}" r="2.5"'
            f' fill="{color}"><title>{escape(label)}, episode {format_axis_value(x)}:'
            f' {format_axis_value(y)}</title></circle>'
            for x, y in dots
        ]
    parts.append("</g>")
    return parts


# ---------------------------------------------------------------------------
# The command
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
        try:
            write_text_atomically(output, render_svg(panels))
        except OSError as error:
            raise RetroGamerError(
                f"cannot write {output}: {error.strerror}; check that its folder exists "
                "and is writable"
            ) from None
        panel_count = f"{len(panels)} panel{'s' if len(panels) != 1 else ''}"
        run_count = f"{len(run_dirs)} run{'s' if len(run_dirs) != 1 else ''}"
        print(f"wrote {output} ({panel_count}, {run_count})", file=stream)
        return 0

    width = width or shutil.get_terminal_size().columns
    rows = SINGLE_PANEL_ROWS if len(panels) == 1 else PANEL_ROWS
    color = use_color(stream)
    charts = [render_terminal_chart(series, width, rows, color, title)
              for title, series in panels]
    print("\n\n".join(charts), file=stream)
    return 0
