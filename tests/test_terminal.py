"""The plain ANSI screen: colour names, frame diffs, key reading, restoring the terminal."""

import os
import select
import signal
import termios
import time

import pytest

from retro_gamer.errors import RetroGamerError
from retro_gamer.show.terminal import (
    CLEAR_SCREEN,
    ENTER_ALTERNATE_SCREEN,
    HIDE_CURSOR,
    LEAVE_ALTERNATE_SCREEN,
    SHOW_CURSOR,
    Canvas,
    Painter,
    Screen,
    color_codes,
    color_enabled,
    move_to,
    rgb_to_256,
)

# --- Colours ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, codes",
    [
        ("red_on_black", ("31", "40")),
        ("white_on_black", ("37", "40")),
        ("black_on_red", ("30", "41")),
        ("red", ("31", None)),
        ("bright_red", ("91", None)),
        ("on_blue", (None, "44")),
        ("bright_white_on_bright_black", ("97", "100")),
        ("black_on_skyblue1", ("30", "48;5;117")),
        ("deepskyblue4_on_skyblue1", ("38;5;24", "48;5;117")),
        ("deepskyblue1_on_skyblue1", ("38;5;39", "48;5;117")),
        ("crimson_on_skyblue1", ("38;5;161", "48;5;117")),
        ("green4", ("38;5;28", None)),
    ],
)
def test_retro_games_colour_names_map_to_sgr_codes(name, codes):
    assert color_codes(name) == codes


@pytest.mark.parametrize("name", ["chartreuse9", "bold", "", None, "nonsense_on_nothing"])
def test_unknown_colour_names_fall_back_to_the_default_colours(name):
    assert color_codes(name) == (None, None)


def test_an_unknown_part_keeps_the_known_part():
    assert color_codes("nonsense_on_black") == (None, "40")


def test_truecolor_terminals_get_the_exact_rgb():
    assert color_codes("crimson_on_skyblue1", truecolor=True) == ("38;2;220;20;60", "48;2;135;206;255")


def test_rgb_to_256_uses_the_colour_cube():
    assert rgb_to_256((0, 0, 0)) == 16
    assert rgb_to_256((255, 255, 255)) == 231
    assert rgb_to_256((255, 0, 0)) == 196
    assert rgb_to_256((0, 95, 135)) == 24


class FakeStream:
    def __init__(self, is_terminal):
        self.is_terminal = is_terminal

    def isatty(self):
        return self.is_terminal


def test_colour_only_on_a_terminal_that_wants_it():
    terminal = FakeStream(True)
    assert color_enabled(terminal, {"TERM": "xterm-256color"})
    assert not color_enabled(terminal, {"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert not color_enabled(terminal, {"TERM": "dumb"})
    assert not color_enabled(FakeStream(False), {"TERM": "xterm-256color"})
    assert color_enabled(terminal, {"TERM": "xterm", "NO_COLOR": ""}), "an empty NO_COLOR does not count"


# --- Frames -------------------------------------------------------------------


def test_canvas_cuts_off_text_past_its_edges():
    canvas = Canvas(4, 2)
    canvas.put(2, 0, "abcdef", "31")
    canvas.put(-1, 1, "xyz")
    canvas.put(0, 5, "never")
    assert [character for character, _ in canvas.cells[0]] == [" ", " ", "a", "b"]
    assert canvas.cells[0][2] == ("a", "31")
    assert [character for character, _ in canvas.cells[1]] == ["y", "z", " ", " "]


def board_canvas(rows, style=""):
    canvas = Canvas(len(rows[0]), len(rows))
    for row_index, row in enumerate(rows):
        canvas.put(0, row_index, row, style)
    return canvas


def test_first_frame_clears_the_screen_and_draws_every_character():
    painter = Painter()
    output = painter.paint(board_canvas(["ab", "cd"]))
    assert CLEAR_SCREEN in output
    for character in "abcd":
        assert character in output


def test_an_identical_frame_writes_nothing():
    rows = ["#" * 32] * 16
    painter = Painter()
    painter.paint(board_canvas(rows))
    assert painter.paint(board_canvas(rows)) == ""


def test_only_changed_cells_are_rewritten():
    rows = ["." * 32 for _ in range(16)]
    painter = Painter()
    painter.paint(board_canvas(rows))
    changed_rows = list(rows)
    changed_rows[3] = "." * 10 + "@" + "." * 21
    changed_rows[12] = "." * 31 + ">"
    output = painter.paint(board_canvas(changed_rows))
    assert output == move_to(10, 3) + "@" + move_to(31, 12) + ">"
    assert CLEAR_SCREEN not in output


def test_a_run_of_changed_cells_needs_one_cursor_move():
    painter = Painter()
    painter.paint(board_canvas(["........"]))
    assert painter.paint(board_canvas(["..>**..."])) == move_to(2, 0) + ">**"


def test_a_change_of_colour_alone_rewrites_the_cell_in_its_new_colour():
    painter = Painter()
    painter.paint(board_canvas(["@"], "31;40"))
    output = painter.paint(board_canvas(["@"], "32;40"))
    assert output == move_to(0, 0) + "\x1b[0;32;40m" + "@" + "\x1b[0m"


def test_without_colour_no_style_is_written_and_colour_changes_are_invisible():
    painter = Painter(use_color=False)
    first = painter.paint(board_canvas(["@@"], "31;40"))
    assert "31" not in first and "\x1b[0;" not in first
    assert painter.paint(board_canvas(["@@"], "32;40")) == ""


def test_a_new_size_repaints_from_a_cleared_screen():
    painter = Painter()
    painter.paint(board_canvas(["ab"]))
    output = painter.paint(board_canvas(["abc"]))
    assert output.startswith("\x1b[0m" + CLEAR_SCREEN)
    assert "a" in output and "c" in output


# --- The screen, on a pseudo-terminal ------------------------------------------


@pytest.fixture
def pty_screen():
    """A Screen on the slave side of a new pseudo-terminal; yields (screen, master_fd, slave_fd)."""
    master_fd, slave_fd = os.openpty()
    termios.tcsetwinsize(slave_fd, (24, 80))
    slave = os.fdopen(slave_fd, "r+b", buffering=0)
    try:
        yield Screen(slave, slave, environment={"TERM": "xterm-256color"}), master_fd, slave_fd
    finally:
        slave.close()
        os.close(master_fd)


def read_available(master_fd):
    chunks = []
    while select.select([master_fd], [], [], 0.05)[0]:
        chunks.append(os.read(master_fd, 65536))
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_a_screen_needs_a_terminal(tmp_path):
    with open(tmp_path / "not-a-terminal", "w+") as not_a_terminal:
        with pytest.raises(RetroGamerError, match="play needs an interactive terminal"):
            Screen(not_a_terminal, not_a_terminal)


def test_size_reads_the_window_size(pty_screen):
    screen, _, slave_fd = pty_screen
    assert screen.size() == (80, 24)
    termios.tcsetwinsize(slave_fd, (10, 20))
    assert screen.size() == (20, 10)


def test_entering_and_leaving_switch_screens_and_restore_the_modes(pty_screen):
    screen, master_fd, slave_fd = pty_screen
    modes_before = termios.tcgetattr(slave_fd)
    with screen:
        modes_inside = termios.tcgetattr(slave_fd)
        assert not modes_inside[3] & termios.ECHO, "keys are not echoed"
        assert not modes_inside[3] & termios.ICANON, "keys arrive one at a time"
        assert modes_inside[3] & termios.ISIG, "Ctrl-C still interrupts"
        entered = read_available(master_fd)
    left = read_available(master_fd)
    assert ENTER_ALTERNATE_SCREEN in entered and HIDE_CURSOR in entered
    assert SHOW_CURSOR in left and LEAVE_ALTERNATE_SCREEN in left
    assert termios.tcgetattr(slave_fd) == modes_before


def test_an_error_inside_still_restores_everything(pty_screen):
    screen, master_fd, slave_fd = pty_screen
    modes_before = termios.tcgetattr(slave_fd)
    handler_before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(ZeroDivisionError):
        with screen:
            assert signal.getsignal(signal.SIGTERM) is not handler_before
            1 / 0
    assert LEAVE_ALTERNATE_SCREEN in read_available(master_fd)
    assert termios.tcgetattr(slave_fd) == modes_before
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_sigterm_leaves_through_the_finally_blocks(pty_screen):
    screen, master_fd, slave_fd = pty_screen
    modes_before = termios.tcgetattr(slave_fd)
    with pytest.raises(SystemExit) as stopped:
        with screen:
            os.kill(os.getpid(), signal.SIGTERM)
            screen.read_key(1.0)  # the signal arrives while we wait for a key
    assert stopped.value.code == 128 + signal.SIGTERM
    assert termios.tcgetattr(slave_fd) == modes_before


@pytest.mark.parametrize(
    "typed, key",
    [
        (b"\r", "enter"),
        (b"\n", "enter"),
        (b"\x1b", "escape"),
        (b"\x1b[A", "\x1b[A"),
        (b"\x1bOB", "\x1bOB"),
        (b"\x1b[1;5C", "\x1b[1;5C"),
        (b"q", "q"),
    ],
)
def test_read_key_names_enter_and_escape_and_keeps_other_keys(pty_screen, typed, key):
    screen, master_fd, _ = pty_screen
    with screen:
        os.write(master_fd, typed)
        assert screen.read_key(1.0) == key
        assert screen.read_key(0) is None, "the whole key was read"


def test_an_arrow_key_is_not_an_escape_then_letters(pty_screen):
    screen, master_fd, _ = pty_screen
    with screen:
        os.write(master_fd, b"\x1b[D\x1b")
        assert screen.read_key(1.0) == "\x1b[D"
        assert screen.read_key(1.0) == "escape"


def test_read_key_without_a_key_returns_none_after_the_timeout(pty_screen):
    screen, _, _ = pty_screen
    with screen:
        started = time.monotonic()
        assert screen.read_key(0.1) is None
        assert 0.09 <= time.monotonic() - started < 0.5
        assert screen.read_key(0) is None
