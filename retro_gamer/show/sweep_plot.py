"""``retro-gamer plot SWEEP_DIR``: each variant's learning curve over its seeds, with an interval.

For every variant, at every checkpoint episode that all of its seeds have
logged, the curve is the **mean across seeds** of the training.log value
(avg_reward, avg_steps, avg_loss or epsilon), and the shaded band is the
**95% bootstrap interval of that mean**: the seeds are resampled with
replacement 2000 times (``statistics.bootstrap_interval``). A band that
covers another variant's curve means these seeds cannot tell the two apart
at that point of training.

In the terminal each variant has its colour: the band is drawn in a light
dot pattern of that colour, the mean as a solid line over it. Without colour
each variant gets its own chart, on the same scales. ``--output FILE.svg``
draws the band as a translucent area under each mean.

The axes, braille cells and legends are those of the run charts (``braille_chart.py``, ``svg_chart.py``, ``chart_scales.py``).
"""

import math
import os
import shutil
import sys

from xml.sax.saxutils import escape, quoteattr

import numpy as np

from retro_gamer.errors import ConfigError, RetroGamerError
from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.run.sweep import read_plan
from retro_gamer.show import braille_chart, chart_scales, plot, statistics, svg_chart
from retro_gamer.show.terminal import color_enabled

BAND_COLORS = tuple(color.replace("\x1b[", "\x1b[2;") for color in braille_chart.COLORS)  # dim


def variant_curves(folder, metrics):
    """``(plan, {metric: [(variant name, seeds, episodes, means, lows, highs), ...]})``."""
    plan = read_plan(folder)
    runs = plan.runs()
    entries = {}
    for run in runs:
        try:
            entries[run.label] = plot.load_run_entries(str(run.path))
        except RetroGamerError as error:
            raise RetroGamerError(f"{run.label}: {error}") from None
    curves = {metric: [] for metric in metrics}
    for variant in plan.variants():
        variant_runs = [run for run in runs if run.variant == variant]
        common = sorted(set.intersection(*[{entry.last_episode for entry in entries[run.label]}
                                           for run in variant_runs]))
        if not common:
            raise RetroGamerError(f"the seeds of {variant.name} have no checkpoint episode in common yet: "
                                  "train them further, then plot again")
        by_episode = [{entry.last_episode: entry for entry in entries[run.label]} for run in variant_runs]
        for metric in metrics:
            table = np.array([[getattr(logged[episode], metric) for episode in common]
                              for logged in by_episode], dtype=np.float64)
            means, lows, highs = [], [], []
            for column in table.T:
                if not np.isfinite(column).all():
                    means.append(math.nan)
                    lows.append(math.nan)
                    highs.append(math.nan)
                    continue
                low, high = statistics.bootstrap_interval(column, "mean")
                means.append(float(column.mean()))
                lows.append(low)
                highs.append(high)
            curves[metric].append((variant.name, len(variant_runs), common, means, lows, highs))
    return plan, curves


# --- the terminal -------------------------------------------------------------------

def band_masks(xs, lows, highs, x_span, y_span, columns, rows):
    """Braille masks of a band: every other dot between the low and the high curve, column by column."""
    masks = np.zeros((rows, columns), dtype=np.uint8)
    dots_wide, dots_tall = 2 * columns, 4 * rows
    points = [(x, low, high) for x, low, high in zip(xs, lows, highs)
              if math.isfinite(x) and math.isfinite(low) and math.isfinite(high)]

    def dot_y(value):
        return dots_tall - 1 - round(chart_scales.to_fraction(value, *y_span) * (dots_tall - 1))

    pairs = list(zip(points, points[1:])) or [(point, point) for point in points]
    for (x0, low0, high0), (x1, low1, high1) in pairs:
        left = round(chart_scales.to_fraction(x0, *x_span) * (dots_wide - 1))
        right = round(chart_scales.to_fraction(x1, *x_span) * (dots_wide - 1))
        for column in range(left, right + 1):
            share = (column - left) / (right - left) if right > left else 0.0
            top = dot_y(high0 + (high1 - high0) * share)
            bottom = dot_y(low0 + (low1 - low0) * share)
            for row in range(top, bottom + 1):
                if (row + column) % 2 == 0:
                    masks[row // 4, column // 2] |= braille_chart.BRAILLE_BITS[row % 4][column % 2]
    return masks


def render_band_chart(curves, width, height, color, title=""):
    """Each variant's mean as a line over its band; ``width`` columns, ``height`` rows per plot area."""
    x_span = chart_scales.episode_range([x for _, _, xs, _, _, _ in curves for x in xs])
    every_value = [value for _, _, _, means, lows, highs in curves for value in (*means, *lows, *highs)]
    y_span = chart_scales.value_range(every_value)
    has_values = bool(chart_scales.finite_values(every_value))
    top_label = chart_scales.format_axis_value(y_span[1]) if has_values else "nan"
    bottom_label = chart_scales.format_axis_value(y_span[0]) if has_values else "nan"
    label_width = max(len(top_label), len(bottom_label))
    columns = width - label_width - 2
    if columns < braille_chart.MIN_PLOT_COLUMNS or height < 2:
        raise ConfigError(f"a chart {width} columns wide is too small to draw: use --width "
                          f"{label_width + 2 + braille_chart.MIN_PLOT_COLUMNS} or more")

    def axis_rows(text_rows):
        return braille_chart.with_y_axis(text_rows, top_label, bottom_label, label_width, width)

    labels = [f"{name} (mean of {seeds} seeds)" for name, seeds, _, _, _, _ in curves]
    layers = []
    for _, _, xs, means, lows, highs in curves:
        band = band_masks(xs, lows, highs, x_span, y_span, columns, height)
        line = braille_chart.dot_masks(xs, means, x_span, y_span, columns, height)
        band[line != 0] = 0  # the line's cells show the line alone, so it reads through the band
        layers.append((band, line))
    overlaid = len(curves) == 1 or (color and len(curves) <= len(braille_chart.COLORS))
    lines = [braille_chart.fit_to_width(title, width)] if title else []
    if overlaid:
        line_colors = list(braille_chart.COLORS[:len(curves)]) if color else [""] * len(curves)
        band_colors = list(BAND_COLORS[:len(curves)]) if color else [""] * len(curves)
        masks = [band for band, _ in layers] + [line for _, line in layers]
        lines += axis_rows(braille_chart.braille_rows(masks, band_colors + line_colors))
    else:
        line_colors = [""] * len(curves)
        for label, (band, line) in zip(labels, layers):
            lines += braille_chart.legend_lines([label], [""], width)
            lines += axis_rows(braille_chart.braille_rows([band, line], ["", ""]))
    lines.append(" " * label_width + " └" + "─" * columns)
    lines.append(" " * (label_width + 2) + braille_chart.episode_axis_labels(x_span, columns))
    if overlaid:
        lines += braille_chart.legend_lines(labels, line_colors, width)
    lines.append(braille_chart.fit_to_width("line: mean of the seeds; dots: its 95% bootstrap interval", width))
    return "\n".join(lines)


# --- SVG ----------------------------------------------------------------------------

def render_sweep_svg(panels):
    """A standalone SVG: a legend, then per panel each variant's band (translucent) and mean line."""
    labels = [f"{name} (mean of {seeds} seeds, band: 95% CI)" for name, seeds, *_ in panels[0][1]]
    colors = [svg_chart.SVG_COLORS[index % len(svg_chart.SVG_COLORS)] for index in range(len(labels))]
    legend_height = 12 + svg_chart.SVG_LEGEND_ROW * len(labels)
    total_height = legend_height + svg_chart.SVG_PANEL_HEIGHT * len(panels)
    width = svg_chart.SVG_WIDTH
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_height}"'
        f' viewBox="0 0 {width} {total_height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{total_height}" fill="white"/>',
    ]
    left = svg_chart.SVG_MARGIN["left"]
    for index, (label, color) in enumerate(zip(labels, colors)):
        y = 16 + svg_chart.SVG_LEGEND_ROW * index
        parts.append(f'<rect x="{left}" y="{y - 6}" width="24" height="12" fill="{color}" fill-opacity="0.2"/>'
                     f'<line x1="{left}" y1="{y}" x2="{left + 24}" y2="{y}" stroke="{color}" stroke-width="3"/>'
                     f'<text x="{left + 32}" y="{y + 4}">{escape(label)}</text>')
    for index, (title, curves) in enumerate(panels):
        parts += _svg_panel(title, curves, colors, legend_height + svg_chart.SVG_PANEL_HEIGHT * index)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _svg_panel(title, curves, colors, top):
    margin = svg_chart.SVG_MARGIN
    left, plot_top = margin["left"], top + margin["top"]
    plot_width = svg_chart.SVG_WIDTH - margin["left"] - margin["right"]
    plot_height = svg_chart.SVG_PANEL_HEIGHT - margin["top"] - margin["bottom"]
    x_span = chart_scales.episode_range([x for _, _, xs, _, _, _ in curves for x in xs])
    every_value = [value for _, _, _, means, lows, highs in curves for value in (*means, *lows, *highs)]
    y_span = chart_scales.value_range(every_value)
    number = svg_chart.svg_number

    def pixel_x(x):
        return left + chart_scales.to_fraction(x, *x_span) * plot_width

    def pixel_y(y):
        return plot_top + (1 - chart_scales.to_fraction(y, *y_span)) * plot_height

    bottom = plot_top + plot_height
    parts = ['<g class="panel">',
             f'<text x="{left}" y="{number(plot_top - 12)}" font-size="14" font-weight="bold">'
             f'{escape(title)}</text>',
             f'<rect class="plot-area" x="{left}" y="{number(plot_top)}" width="{plot_width}"'
             f' height="{plot_height}" fill="none" stroke="black"/>']
    for episode in chart_scales.nice_ticks(*x_span, about=svg_chart.SVG_TICKS):
        x = number(pixel_x(episode))
        parts.append(f'<line class="x-tick" x1="{x}" y1="{number(bottom)}" x2="{x}" y2="{number(bottom + 5)}"'
                     f' stroke="black"/><text x="{x}" y="{number(bottom + 18)}" text-anchor="middle">'
                     f'{escape(chart_scales.format_axis_value(episode))}</text>')
    if chart_scales.finite_values(every_value):
        for value in chart_scales.nice_ticks(*y_span, about=svg_chart.SVG_TICKS):
            y = number(pixel_y(value))
            parts.append(f'<line class="y-tick" x1="{left - 5}" y1="{y}" x2="{left + plot_width}" y2="{y}"'
                         f' stroke="#dddddd"/><text x="{left - 8}" y="{y}" text-anchor="end"'
                         f' dominant-baseline="middle">{escape(chart_scales.format_axis_value(value))}</text>')
    parts.append(f'<text x="{left + plot_width / 2}" y="{number(bottom + 36)}" text-anchor="middle">episode</text>')
    for (name, _, xs, means, lows, highs), color in zip(curves, colors):
        band = [(x, low, high) for x, low, high in zip(xs, lows, highs)
                if math.isfinite(low) and math.isfinite(high)]
        outline = ([f"{number(pixel_x(x))},{number(pixel_y(high))}" for x, _, high in band]
                   + [f"{number(pixel_x(x))},{number(pixel_y(low))}" for x, low, _ in reversed(band)])
        parts.append(f'<polygon class="band" data-variant={quoteattr(name)} points="{" ".join(outline)}"'
                     f' fill="{color}" fill-opacity="0.2" stroke="none"/>')
        line = " ".join(f"{number(pixel_x(x))},{number(pixel_y(y))}" for x, y in zip(xs, means)
                        if math.isfinite(y))
        parts.append(f'<polyline class="series" data-variant={quoteattr(name)} points="{line}"'
                     f' fill="none" stroke="{color}" stroke-width="2"/>')
    parts.append("</g>")
    return parts


# --- the command --------------------------------------------------------------------

def command_plot_sweep(folder, metric, output, width, stream=None):
    stream = stream or sys.stdout
    if metric is not None and metric not in plot.METRICS:
        raise ConfigError(f"unknown metric {metric!r}: choose one of {', '.join(plot.METRICS)}")
    metrics = [metric] if metric else list(plot.METRICS)
    plan, curves = variant_curves(folder, metrics)
    panels = [(f"{name}: {plot.METRIC_DESCRIPTIONS[name]}", curves[name]) for name in metrics]
    if output:
        try:
            write_text_atomically(output, render_sweep_svg(panels))
        except OSError as error:
            raise RetroGamerError(f"cannot write {output}: {error.strerror}; check that its folder "
                                  "exists and is writable") from None
        print(f"wrote {output} ({len(panels)} panel(s), {len(plan.variants())} variant(s) x "
              f"{len(plan.seeds)} seed(s))", file=stream)
        return 0
    width = width or shutil.get_terminal_size().columns
    rows = plot.SINGLE_PANEL_ROWS if len(panels) == 1 else plot.PANEL_ROWS
    color = color_enabled(stream, os.environ)
    print("\n\n".join(render_band_chart(series, width, rows, color, title) for title, series in panels),
          file=stream)
    return 0
