"""`retro-gamer plot`: braille charts in the terminal and a hand-drawn SVG."""

import io
import math
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ElementTree
from datetime import datetime

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from retro_gamer.show import braille_chart, chart_scales, plot, svg_chart
from retro_gamer.show.chart_scales import nice_ticks
from retro_gamer.show.terminal import color_enabled
from retro_gamer.cli import build_parser
from retro_gamer.errors import ConfigError, RetroGamerError
from retro_gamer.run.training_log import (
    LogEntry,
    checkpoint_name,
    format_checkpoint_line,
    format_resume_line,
    parse_log,
    write_log_atomically,
)

SVG = "{http://www.w3.org/2000/svg}"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def columns_of(line: str) -> int:
    """Display columns of a line, counted independently of braille_chart.display_width."""
    text = ANSI.sub("", line)
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def entry(last_episode, avg_reward, avg_steps=50.0, epsilon=0.5, avg_loss=1.5, every=100):
    first_episode = max(1, last_episode - every + 1)
    return LogEntry(checkpoint_name(last_episode), first_episode, last_episode, avg_reward,
                    avg_steps, epsilon, avg_loss, 12.0, 12.0 * last_episode / every)


def write_run(folder, entries, resume_after=None):
    """A run folder whose training.log has a header, the entries and maybe a resume line."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Network architecture:", "  Linear(10 -> 4)"]
    for log_entry in entries:
        lines.append(format_checkpoint_line(log_entry))
        if log_entry.last_episode == resume_after:
            lines.append(format_resume_line(f"{log_entry.name}.npz", RESUMED_AT))
    write_log_atomically(folder / "training.log", lines)
    return str(folder)


RESUMED_AT = datetime(2026, 5, 9, 14, 22, 1)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def two_runs(tmp_path):
    snake = write_run(tmp_path / "runs" / "snake", [
        entry(100, -31.4, 47, 0.938, float("nan")),
        entry(200, -18.6, 89, 0.879, 6.8),
        entry(300, -4.1, 134, 0.824, 6.1),
        entry(400, 8.7, 210, 0.724, 0.0003),
    ], resume_after=200)
    tuned = write_run(tmp_path / "runs" / "tuned", [
        entry(100, -20.0, 60, 0.9, 3.0),
        entry(200, 40.0, 300, 0.8, 2.0),
    ])
    return [snake, tuned]


# ---------------------------------------------------------------------------
# Scales
# ---------------------------------------------------------------------------


def test_value_range_of_constant_nan_and_negative_values():
    assert chart_scales.value_range([-3.0, -1.0, float("nan")]) == (-3.0, -1.0)
    low, high = chart_scales.value_range([5.0, 5.0])
    assert low < 5.0 < high and (low + high) / 2 == pytest.approx(5.0)
    assert chart_scales.value_range([0.0]) == (-1.0, 1.0)
    assert chart_scales.value_range([float("nan")]) == (0.0, 1.0)
    assert chart_scales.episode_range([100]) == (0.0, 100.0)


@pytest.mark.parametrize("column, row, character", [
    (0, 0, "\u2801"), (0, 1, "\u2802"), (0, 2, "\u2804"), (0, 3, "\u2840"),
    (1, 0, "\u2808"), (1, 1, "\u2810"), (1, 2, "\u2820"), (1, 3, "\u2880")])
def test_each_dot_sets_its_own_braille_bit(column, row, character):
    # A one-cell canvas (2 x 4 dots): x in 0..1 picks the column, y in 0..3 the row (0 at top).
    masks = braille_chart.dot_masks([column], [3 - row], (0, 1), (0, 3), columns=1, rows=1)
    assert braille_chart.braille_rows([masks], [""]) == [character]


def test_a_line_has_no_gaps():
    masks = braille_chart.dot_masks([0, 1], [0, 1], (0, 1), (0, 1), columns=10, rows=5)
    # A rising diagonal across a 20 x 20 dot canvas touches every cell column.
    assert all(masks[:, column].any() for column in range(10))
    assert masks[-1, 0] and masks[0, -1]


# ---------------------------------------------------------------------------
# Terminal chart
# ---------------------------------------------------------------------------

SERIES = [
    ("snake", [100, 200, 300, 400], [-31.4, -18.6, float("nan"), 8.7]),
    ("tuned", [100, 200], [-20.0, 40.0]),
    ("flat", [100, 200, 300], [3.0, 3.0, 3.0]),
]


@settings(max_examples=40, deadline=None)
@given(width=st.integers(20, 220), height=st.integers(2, 12), color=st.booleans(),
       runs=st.integers(1, 3))
def test_every_line_has_exactly_the_requested_width(width, height, color, runs):
    chart = braille_chart.render_terminal_chart(SERIES[:runs], width, height, color, title="avg_reward")
    assert all(columns_of(line) == width for line in chart.split("\n"))


def test_long_and_wide_labels_still_fit_the_width():
    series = [("run-" + "x" * 100, [1, 2], [1.0, 2.0]), ("走る蛇の実験", [1, 2], [2.0, 1.0])]
    for color in (True, False):
        chart = braille_chart.render_terminal_chart(series, 40, 4, color, title="t" * 50)
        assert all(columns_of(line) == 40 for line in chart.split("\n"))


def plot_rows(chart_lines):
    """The lines that hold braille dots (the plot area)."""
    return [line for line in chart_lines if re.search("[\u2801-\u28ff]", ANSI.sub("", line))
            and ("┤" in line or "│" in line)]


def test_colour_marks_every_run_in_its_own_colour():
    chart = braille_chart.render_terminal_chart(SERIES, 80, 8, color=True)
    lines = chart.split("\n")
    plot_area = "\n".join(plot_rows(lines))
    legend = lines[-1]
    for label, color in zip(["snake", "tuned", "flat"], braille_chart.COLORS):
        assert color in plot_area, f"no {label} dots in its colour"
        assert color + braille_chart.LEGEND_MARK in legend and label in legend


def test_without_colour_each_run_gets_its_own_labelled_chart():
    chart = braille_chart.render_terminal_chart(SERIES, 80, 8, color=False)
    assert "\x1b" not in chart
    lines = chart.split("\n")
    headers = [index for index, line in enumerate(lines) if braille_chart.LEGEND_MARK in line]
    assert [lines[index].split()[1] for index in headers] == ["snake", "tuned", "flat"]
    for start in headers:
        own_rows = lines[start + 1: start + 9]
        assert len(plot_rows(own_rows)) >= 1, "a run without dots"
    assert lines[-1].split() == ["0", "episode", "400"]


def test_constant_series_is_a_flat_line_in_the_middle():
    chart = braille_chart.render_terminal_chart([("flat", [1, 2, 3], [0.5, 0.5, 0.5])], 40, 5, False)
    rows = chart.split("\n")[:5]
    drawn = [index for index, row in enumerate(rows) if re.search("[\u2801-\u28ff]", row)]
    assert drawn == [2]
    assert rows[0].split()[0] == "0.55" and rows[-1].split()[0] == "0.45"


def test_all_nan_and_single_point_series_do_not_crash():
    chart = braille_chart.render_terminal_chart([("empty", [100], [float("nan")])], 30, 3, True)
    assert chart.split("\n")[0].split()[0] == "nan"
    single = braille_chart.render_terminal_chart([("one", [100], [7.0])], 30, 3, False)
    assert re.search("[\u2801-\u28ff]", single)


def test_too_narrow_a_chart_is_a_config_error():
    with pytest.raises(ConfigError, match="--width"):
        braille_chart.render_terminal_chart(SERIES, 10, 8, color=False)


@pytest.mark.parametrize("environment, coloured", [
    ({"TERM": "xterm-256color"}, True),
    ({"TERM": "xterm-256color", "NO_COLOR": "1"}, False),
    ({"TERM": "xterm-256color", "NO_COLOR": ""}, True),  # no-color.org: only a non-empty NO_COLOR
    ({"TERM": "dumb"}, False),
])
def test_plot_colours_a_terminal_by_the_rule_play_uses(two_runs, monkeypatch, environment, coloured):
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    stream = FakeTerminal()
    plot.command_plot(two_runs, "avg_reward", None, 80, stream=stream)
    assert ("\x1b[" in stream.getvalue()) == coloured
    assert color_enabled(FakeTerminal(), os.environ) == coloured


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------


def polyline_values(panel, label):
    """Invert the panel's scale: the (episode, value) pairs a run's polyline draws."""
    area = panel.find(f"{SVG}rect[@class='plot-area']")
    left, top = float(area.get("x")), float(area.get("y"))
    width, height = float(area.get("width")), float(area.get("height"))
    line = panel.find(f"{SVG}polyline[@data-run='{label}']")
    return [(float(x), float(y)) for x, y in
            (pair.split(",") for pair in line.get("points").split())], (left, top, width, height)


def test_svg_parses_and_its_polylines_map_back_to_the_log_values(two_runs, tmp_path):
    output = tmp_path / "curves.svg"
    assert plot.command_plot(two_runs, None, str(output), None, stream=io.StringIO()) == 0
    root = ElementTree.parse(output).getroot()
    assert root.tag == f"{SVG}svg"
    panels = root.findall(f"{SVG}g[@class='panel']")
    assert len(panels) == len(plot.METRICS)

    logs = {label: parse_log((tmp_path / "runs" / label / "training.log").read_text()).entries
            for label in ("snake", "tuned")}
    for panel, metric in zip(panels, plot.METRICS):
        assert metric in panel.find(f"{SVG}text").text
        assert len(panel.findall(f"{SVG}polyline")) == 2
        all_values = [getattr(e, metric) for entries in logs.values() for e in entries]
        all_episodes = [e.last_episode for entries in logs.values() for e in entries]
        y_low, y_high = chart_scales.value_range(all_values)
        x_low, x_high = chart_scales.episode_range(all_episodes)
        for label, entries in logs.items():
            points, (left, top, width, height) = polyline_values(panel, label)
            expected = [(e.last_episode, getattr(e, metric)) for e in entries
                        if math.isfinite(getattr(e, metric))]
            assert len(points) == len(expected)
            for (x, y), (episode, value) in zip(points, expected):
                assert x_low + (x - left) / width * (x_high - x_low) == pytest.approx(
                    episode, abs=0.01 * (x_high - x_low) / width)
                assert y_low + (top + height - y) / height * (y_high - y_low) == pytest.approx(
                    value, abs=0.01 * (y_high - y_low) / height)


def test_svg_escapes_labels_and_handles_nan_only_panels():
    svg = svg_chart.render_svg([("avg_loss", [("a<b&c", [100], [float("nan")])])])
    root = ElementTree.fromstring(svg.encode())
    assert root.find(f"{SVG}g/{SVG}polyline").get("data-run") == "a<b&c"
    assert "no values yet" in svg


def test_svg_written_atomically_and_metric_restricts_the_panels(two_runs, tmp_path):
    output = tmp_path / "out" / "curves.svg"
    output.parent.mkdir()
    stream = io.StringIO()
    plot.command_plot(two_runs, "epsilon", str(output), None, stream=stream)
    assert os.listdir(output.parent) == ["curves.svg"]
    assert "curves.svg" in stream.getvalue()
    root = ElementTree.parse(output).getroot()
    assert len(root.findall(f"{SVG}g[@class='panel']")) == 1


def test_svg_into_a_missing_folder_is_a_clear_error(two_runs, tmp_path):
    with pytest.raises(RetroGamerError, match="cannot write .*folder exists"):
        plot.command_plot(two_runs, None, str(tmp_path / "nowhere" / "c.svg"), None)


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def test_command_draws_every_metric_for_every_run(two_runs, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    stream = FakeTerminal()
    assert plot.command_plot(two_runs, None, None, 90, stream=stream) == 0
    text = stream.getvalue()
    for metric in plot.METRICS:
        assert metric in text
    assert text.count("snake") == len(plot.METRICS) and text.count("tuned") == len(plot.METRICS)
    assert all(columns_of(line) in (0, 90) for line in text.splitlines())


def test_resume_lines_and_a_single_checkpoint_plot_fine(tmp_path):
    single = write_run(tmp_path / "single", [entry(100, -5.0)])
    resumed = write_run(tmp_path / "resumed", [entry(100, 1.0), entry(200, 2.0)],
                        resume_after=100)
    stream = io.StringIO()
    assert plot.command_plot([single, resumed], "avg_reward", None, 60, stream=stream) == 0
    text = stream.getvalue()
    assert "single" in text and "resumed" in text
    assert "\x1b" not in text


def test_episodes_run_again_after_a_resume_keep_the_later_line(tmp_path):
    folder = write_run(tmp_path / "run", [entry(100, 1.0), entry(200, 2.0), entry(200, 9.0)])
    assert [e.avg_reward for e in plot.load_run_entries(folder)] == [1.0, 9.0]


def test_missing_log_says_to_train_first(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(RetroGamerError,
                       match=r"no training.log in .*x/: run 'retro-gamer train .*x/' first"):
        plot.command_plot([str(tmp_path / "x")], None, None, 80)


def test_missing_run_folder_says_to_create_it(tmp_path):
    with pytest.raises(RetroGamerError, match="retro-gamer create"):
        plot.command_plot([str(tmp_path / "absent")], None, None, 80)


def test_log_without_checkpoint_lines_says_so(tmp_path):
    write_log_atomically(tmp_path / "training.log", ["Network architecture:", "  Linear"])
    with pytest.raises(RetroGamerError, match="training.log in .* has no checkpoint lines yet"):
        plot.command_plot([str(tmp_path)], None, None, 80)


def test_empty_log_is_a_clear_error(tmp_path):
    (tmp_path / "training.log").write_text("")
    with pytest.raises(RetroGamerError, match="empty"):
        plot.command_plot([str(tmp_path)], None, None, 80)


def test_unknown_metric_is_a_config_error(two_runs):
    with pytest.raises(ConfigError, match="avg_reward, avg_steps, avg_loss, epsilon"):
        plot.command_plot(two_runs, "reward", None, 80)


def test_the_command_line_offers_exactly_the_metrics_plot_draws(capsys):
    parser = build_parser()
    for metric in plot.METRICS:
        assert parser.parse_args(["plot", "runs/x", "--metric", metric]).metric == metric
    with pytest.raises(SystemExit):
        parser.parse_args(["plot", "--help"])
    assert "--metric {" + ",".join(plot.METRICS) + "}" in capsys.readouterr().out


def test_building_the_command_line_does_not_load_numpy():
    # plot.py gives the command line its METRICS; --help must not wait for numpy.
    code = "import sys; from retro_gamer.cli import build_parser; build_parser(); print('numpy' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"


def test_runs_with_the_same_folder_name_get_their_paths_as_labels(tmp_path):
    first = write_run(tmp_path / "a" / "snake", [entry(100, 1.0)])
    second = write_run(tmp_path / "b" / "snake", [entry(100, 2.0)])
    assert plot.run_labels([first, second]) == [first, second]
    assert plot.run_labels([first]) == ["snake"]


@settings(max_examples=200, deadline=None)
@given(low=st.floats(-1e6, 1e6), width=st.floats(1e-6, 1e6))
@example(low=1.0, width=14286.0)  # once gave only 5000 and 10000 (issue 17)
def test_nice_ticks_are_round_evenly_spaced_and_inside_the_range(low, width):
    high = low + width
    assume(width >= 1e-6 * max(1.0, abs(low)))  # a chart's range is never far narrower
    ticks = nice_ticks(low, high)
    assert 3 <= len(ticks) <= 9
    assert all(low - 1e-9 * width <= tick <= high + 1e-9 * width for tick in ticks)
    steps = np.diff(ticks)
    np.testing.assert_allclose(steps, steps[0], rtol=1e-6)
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert min(abs(mantissa - nice) for nice in (1, 2, 5, 10)) < 1e-6
    # every tick is a whole multiple of the step
    np.testing.assert_allclose(np.array(ticks) / steps[0], np.round(np.array(ticks) / steps[0]), atol=1e-6)


def test_nice_ticks_on_a_training_log_range():
    assert nice_ticks(0, 1000) == [0, 200, 400, 600, 800, 1000]
    assert nice_ticks(-31.4, 9.0) == [-30, -20, -10, 0]
    assert nice_ticks(16, 140) == [20, 40, 60, 80, 100, 120, 140]
    assert nice_ticks(5.39, 5.71) == [5.4, 5.45, 5.5, 5.55, 5.6, 5.65, 5.7]
    assert nice_ticks(3.0, 3.0) == []
    # The range starts just past a multiple of 5000: 5000 and 10000 alone were too few.
    assert nice_ticks(1.0, 14287.0) == [2000, 4000, 6000, 8000, 10000, 12000, 14000]
