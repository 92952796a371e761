"""How do you draw a chart as an SVG file, by hand?

SVG is XML that a browser draws. A chart needs only five elements::

    <rect x y width height/>          a box (the page, a plot area)
    <line x1 y1 x2 y2/>               a tick, a grid line, a legend mark
    <text x y>label</text>            a title, a tick label
    <polyline points="x,y x,y ..."/>  one run's curve
    <circle cx cy r><title>...</title></circle>
                                      one checkpoint; a browser shows its
                                      <title> as a tooltip on hover

Coordinates are pixels from the top-left corner, so y grows downwards: a
value at the fraction f of its axis (``chart_scales.to_fraction``) is drawn
at ``top + (1 - f) * height``. Text from the user (run names) is escaped,
so a name such as ``a<b&c`` cannot break the file.

``render_svg`` writes a legend (one coloured line per run), then one panel
per metric, each on its own scales with round-number ticks
(``chart_scales.nice_ticks``) and light grid lines. A run keeps its colour
in every panel. Each checkpoint gets a dot with a tooltip, unless there are
so many that the dots would merge into a thick line.
"""

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from retro_gamer.show.chart_scales import (
    episode_range, finite_values, format_axis_value, nice_ticks, to_fraction, value_range,
)

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


@dataclass(frozen=True)
class PlotArea:
    """The box of one panel that the data is drawn in, and the ranges it shows."""

    left: float
    top: float
    width: float
    height: float
    x_span: tuple[float, float]
    y_span: tuple[float, float]

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def pixel_x(self, x: float) -> float:
        """Episode ``x`` as pixels from the left of the page."""
        return self.left + to_fraction(x, *self.x_span) * self.width

    def pixel_y(self, y: float) -> float:
        """Value ``y`` as pixels from the top of the page (larger values higher up)."""
        return self.top + (1 - to_fraction(y, *self.y_span)) * self.height


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
    all_ys = [y for _, _, ys in series for y in ys]
    has_values = bool(finite_values(all_ys))
    area = PlotArea(
        left=SVG_MARGIN["left"],
        top=top + SVG_MARGIN["top"],
        width=SVG_WIDTH - SVG_MARGIN["left"] - SVG_MARGIN["right"],
        height=SVG_PANEL_HEIGHT - SVG_MARGIN["top"] - SVG_MARGIN["bottom"],
        x_span=episode_range([x for _, xs, _ in series for x in xs]),
        y_span=value_range(all_ys),
    )
    parts = [
        '<g class="panel">',
        f'<text x="{area.left}" y="{svg_number(area.top - 12)}" font-size="14"'
        f' font-weight="bold">{escape(title)}</text>',
        f'<rect class="plot-area" x="{area.left}" y="{svg_number(area.top)}"'
        f' width="{area.width}" height="{area.height}" fill="none" stroke="black"/>',
    ]
    parts += x_ticks(area)
    if has_values:
        parts += y_ticks(area)
    middle = area.left + area.width / 2
    parts.append(
        f'<text x="{middle}" y="{svg_number(area.bottom + 36)}"'
        f' text-anchor="middle">episode</text>'
    )
    if not has_values:
        parts.append(
            f'<text x="{middle}" y="{svg_number(area.top + area.height / 2)}"'
            f' text-anchor="middle" fill="#888888">no values yet (nan)</text>'
        )
    for (label, xs, ys), color in zip(series, colors):
        parts += series_elements(label, xs, ys, color, area)
    parts.append("</g>")
    return parts


def x_ticks(area: PlotArea) -> list[str]:
    """Round episode numbers under the plot area, each with a short tick."""
    bottom = area.bottom
    parts = []
    for episode in nice_ticks(*area.x_span, about=SVG_TICKS):
        x = svg_number(area.pixel_x(episode))
        line = (x, svg_number(bottom), x, svg_number(bottom + 5))
        parts.append(labelled_tick("x-tick", line, "black", (x, svg_number(bottom + 18)),
                                   'text-anchor="middle"', format_axis_value(episode)))
    return parts


def y_ticks(area: PlotArea) -> list[str]:
    """Round values left of the plot area, each with a light grid line across it."""
    parts = []
    for value in nice_ticks(*area.y_span, about=SVG_TICKS):
        y = svg_number(area.pixel_y(value))
        line = (area.left - 5, y, area.left + area.width, y)
        parts.append(labelled_tick("y-tick", line, "#dddddd", (area.left - 8, y),
                                   'text-anchor="end" dominant-baseline="middle"',
                                   format_axis_value(value)))
    return parts


def labelled_tick(css_class: str, line, stroke: str, label_at, label_style: str, label: str) -> str:
    """A tick line ``(x1, y1, x2, y2)`` and its label at ``(x, y)``, coordinates written as given."""
    x1, y1, x2, y2 = line
    label_x, label_y = label_at
    return (
        f'<line class="{css_class}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{stroke}"/>'
        f'<text x="{label_x}" y="{label_y}" {label_style}>{escape(label)}</text>'
    )


def series_elements(label: str, xs, ys, color: str, area: PlotArea) -> list[str]:
    """One run's curve: a polyline through its drawable points, and a dot on each."""
    drawable = [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
    point_text = " ".join(
        f"{svg_number(area.pixel_x(x))},{svg_number(area.pixel_y(y))}" for x, y in drawable
    )
    parts = [
        f'<polyline class="series" data-run={quoteattr(label)} points="{point_text}"'
        f' fill="none" stroke="{color}" stroke-width="2"/>'
    ]
    dots = drawable if len(drawable) <= SVG_MAX_DOTS else []
    parts += [
        f'<circle cx="{svg_number(area.pixel_x(x))}" cy="{svg_number(area.pixel_y(y))}" r="2.5"'
        f' fill="{color}"><title>{escape(label)}, episode {format_axis_value(x)}:'
        f' {format_axis_value(y)}</title></circle>'
        for x, y in dots
    ]
    return parts
