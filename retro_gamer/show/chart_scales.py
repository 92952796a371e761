"""Where does a value land on a chart, and which round numbers label its axes?

Both of plot's charts, the braille one in the terminal and the SVG file,
place values the same way, with the functions here.

Scaling. A value v between the lowest value ``low`` and the highest ``high``
lands at the fraction

    fraction = (v - low) / (high - low)

of the axis: 0.0 at the bottom (y) or the left (x), 1.0 at the top or the
right. A chart turns that into a dot or a pixel; the braille chart, with
``dots`` dots along the axis, draws dot ``round(fraction * (dots - 1))``.

The x axis starts at episode 0, so runs of different lengths line up and a
single checkpoint still has a place. A constant series gets a range around
its value (``v - pad .. v + pad``) so it draws as a flat line in the middle
instead of dividing by zero. NaN (an interval without learning steps has no
loss) and infinities are skipped; the line joins the values on either side.

Ticks. The SVG chart labels its axes at round values, 1, 2 or 5 times a
power of ten apart (``nice_ticks``); the braille chart has room only for the
ends of each axis.
"""

import math


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
