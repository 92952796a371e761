"""How can a terminal, which shows only characters, draw a line chart?

With braille. Each Unicode braille character (U+2800 to U+28FF) is a cell of
2 x 4 dots, and each dot is one bit of the code point::

    bit of each dot   column 0   column 1
              row 0     0x01       0x08
              row 1     0x02       0x10
              row 2     0x04       0x20
              row 3     0x40       0x80

    character = chr(0x2800 + mask),  mask = OR of the bits of the dots set

so a chart W cells wide and H cells tall is a canvas of 2W x 4H dots, four
times as fine as one character per point would be upwards and twice as fine
across. A value lands on a dot as ``chart_scales`` says; a line joins each
point to the next, dot by dot.

Each run is drawn in its own ANSI colour. Without colour (the output is not
a terminal, ``NO_COLOR`` is set, or ``TERM=dumb``: ``terminal.color_enabled``
decides) runs drawn over each other could not be told apart, so each run
gets its own plot area, one under the other, on the same scales. So does
every run when there are more runs than colours.

Every line of a chart is exactly as wide as asked, in terminal columns: an
ANSI code takes no column and a wide character (a CJK run name) takes two,
so widths are counted with ``display_width``, not ``len``.
"""

import math
import re
import unicodedata

import numpy as np

from retro_gamer.errors import ConfigError
from retro_gamer.show.chart_scales import (
    episode_range, finite_values, format_axis_value, to_fraction, value_range,
)
from retro_gamer.show.terminal import RESET_STYLE

# Terminal colours (cyan, yellow, magenta, green, red, blue), one per run.
COLORS = ("\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m", "\x1b[31m", "\x1b[34m")
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
LEGEND_MARK = "\u28ff\u28ff"  # two full braille cells
MIN_PLOT_COLUMNS = 8

# BRAILLE_BITS[row][column]: the bit of a dot inside one 2 x 4 braille cell.
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))

# ---------------------------------------------------------------------------
# Braille canvas
# ---------------------------------------------------------------------------


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
                text += cell_color or RESET_STYLE
                current_color = cell_color
            text += chr(0x2800 + cell_mask) if cell_mask else " "
        rows.append(text + (RESET_STYLE if current_color else ""))
    return rows


# ---------------------------------------------------------------------------
# Display widths
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Around the plot area: axes and legend
# ---------------------------------------------------------------------------


def with_y_axis(text_rows: list[str], top_label: str, bottom_label: str,
                label_width: int, width: int) -> list[str]:
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


def episode_axis_labels(x_span, columns: int) -> str:
    """The x range under the axis: first episode at the left, last at the right."""
    left, right = format_axis_value(x_span[0]), format_axis_value(x_span[1])
    gap = columns - len(left) - len(right)
    if gap < 1:
        return right.rjust(columns)[-columns:]
    middle = "episode" if gap >= len("episode") + 2 else ""
    return left + middle.center(gap) + right


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
        mark = color + LEGEND_MARK + RESET_STYLE if color else LEGEND_MARK
        line += f"{separator}{mark} {label}"
        line_width += len(separator) + item_width
    lines.append(pad_line(line, width))
    return lines


# ---------------------------------------------------------------------------
# One chart
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

    labels = [label for label, _, _ in series]
    masks = [dot_masks(xs, ys, x_span, y_span, columns, height) for _, xs, ys in series]
    overlaid = len(series) == 1 or (color and len(series) <= len(COLORS))
    run_colors = list(COLORS[: len(series)]) if color and overlaid else [""] * len(series)
    lines = [fit_to_width(title, width)] if title else []
    if overlaid:
        lines += with_y_axis(braille_rows(masks, run_colors), top_label, bottom_label,
                             label_width, width)
    else:
        for label, run_masks in zip(labels, masks):
            lines += legend_lines([label], [""], width)
            lines += with_y_axis(braille_rows([run_masks], [""]), top_label, bottom_label,
                                 label_width, width)
    lines.append(" " * label_width + " └" + "─" * columns)
    lines.append(" " * (label_width + 2) + episode_axis_labels(x_span, columns))
    if overlaid:
        lines += legend_lines(labels, run_colors, width)
    return "\n".join(lines)
