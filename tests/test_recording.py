"""Recording games as asciicasts, and the agent's-eye view on the play screen.

The recordings are checked the way a viewer would meet them: the file is
parsed as asciicast v2, its events are fed through a terminal emulator
(pyte, test-only), and the last picture is compared with the last screen
play drew; asciinema itself (test-only) must play the file without error.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyte
import pytest

from cli_helpers import CATCH, create_catch_run, run_cli, run_main
from play_stand_ins import FakePolicy, snake_environment
from test_play import PtyProcess, on_screen, retro_gamer, run_in_pty, screen_text  # noqa: F401

from retro_gamer.game.environment import Environment
from retro_gamer.game.observation import Observer
from retro_gamer.show.agent_view import (
    HEAVY_BORDER, RING_HORIZONTAL, RING_VERTICAL, border_hint, draw_window_outline, input_lines,
    view_window)
from retro_gamer.show.play import PAUSE_BETWEEN_GAMES, QUIT_HINT, Readout, Watcher, action_labels, draw_board, watch
from retro_gamer.show.policy import load_policy
from retro_gamer.show.recording import FINAL_HOLD, HeadlessScreen, Recording
from retro_gamer.show.terminal import Canvas

REPOSITORY = Path(__file__).resolve().parent.parent
OUTLINE_CHARACTERS = set("╭╮╰╯") | {RING_HORIZONTAL, RING_VERTICAL} | set(HEAVY_BORDER.values())


# --- Reading a recording back ----------------------------------------------------------


def read_asciicast(path):
    """(header, events) of an asciicast v2 file, checking the format on the way."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2
    assert isinstance(header["width"], int) and isinstance(header["height"], int)
    assert header["width"] > 0 and header["height"] > 0
    events = [json.loads(line) for line in lines[1:]]
    assert events, "a recording has events"
    for event in events:
        assert isinstance(event, list) and len(event) == 3, event
        seconds, kind, text = event
        assert isinstance(seconds, (int, float)) and kind == "o" and isinstance(text, str), event
    times = [event[0] for event in events]
    assert times[0] >= 0 and all(later >= earlier for earlier, later in zip(times, times[1:])), \
        "times never go back"
    return header, events


def emulated_screen(header, events):
    """The last picture of a recording, as a terminal emulator shows it: one string per line."""
    screen = pyte.Screen(header["width"], header["height"])
    stream = pyte.Stream(screen)
    for _, _, text in events:
        stream.feed(text)
    return screen.display


def asciinema(*arguments):
    return subprocess.run([sys.executable, "-m", "asciinema", *arguments], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


# --- Trained runs whose networks see a window around the player -----------------------------


def trained_run(run_dir, *create_options):
    """Create and train a run in-process (quick); the CLI under test runs in subprocesses."""
    for arguments in (["create", "--output", run_dir, *create_options], ["train", run_dir]):
        code, _, stderr = run_main(arguments)
        assert code == 0, stderr
    return run_dir


@pytest.fixture(scope="module")
def snake_run(tmp_path_factory):
    """Snake as it ships: a 5x5 window around the head. Two episodes: it plays badly, and soon ends."""
    return trained_run(tmp_path_factory.mktemp("runs") / "snake", "--game", "retro.examples.snake",
                       "--training-episodes", "2", "--hidden-sizes", "16")


@pytest.fixture(scope="module")
def egocentric_catch_run(tmp_path_factory):
    """Catch with a 3x3 window around the paddle: its games end with different scores."""
    return trained_run(tmp_path_factory.mktemp("runs") / "catch-window", "--game", CATCH,
                       "--training-episodes", "3", "--egocentric", "--egocentric-player", "paddle",
                       "--egocentric-radius", "1", "--hidden-sizes", "8")


class CapturingScreen:
    """A screen of a fixed size that keeps what is written; Enter after the last game.

    Its own clock moves on when play waits, so nothing waits in real time.
    """

    def __init__(self, size):
        self.now = 0.0
        self.terminal_size = size
        self.use_color = True
        self.truecolor = False
        self.needs_full_redraw = False
        self.written = []

    def size(self):
        return self.terminal_size

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False

    def write(self, text):
        self.written.append(text)

    def clock(self):
        return self.now

    def read_key(self, timeout=0):
        if timeout is None:
            return "enter"
        self.now += timeout
        return None


def last_screen_play_draws(run_dir, size, seed, episodes=1):
    """The last screen of ``play --seed`` on ``run_dir``, drawn here in-process."""
    policy = load_policy(run_dir)
    environment = Environment(policy.source.factory, policy.actions, policy.reward_key)
    screen = CapturingScreen(size)
    watch(policy, environment, screen, framerate=1000, episodes=episodes, max_turns=policy.max_turns,
          seed=seed)
    return screen_text("".join(screen.written), size)


# --- The file format and the clock -------------------------------------------------------


def test_a_recording_is_asciicast_v2_with_times_that_never_go_back(tmp_path):
    recording = Recording((40, 12), title="a test")
    recording.add(0.0, "\x1b[2Jhello")
    recording.add(0.0, "")
    recording.add(0.1000004, "é ┌")
    recording.add(0.1000004 + 1e-7, "x")  # rounds to the same microsecond or the next
    recording.save(tmp_path / "t.cast")
    header, events = read_asciicast(tmp_path / "t.cast")
    assert (header["width"], header["height"], header["title"]) == (40, 12, "a test")
    assert [text for _, _, text in events] == ["\x1b[2Jhello", "é ┌", "x"], "an empty write is no event"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left"


def test_a_headless_screen_keeps_the_frame_schedule_without_waiting():
    recording = Recording((80, 30))
    screen = HeadlessScreen(recording)
    environment = snake_environment()
    started = time.monotonic()
    watch(FakePolicy(straight=True), environment, screen, framerate=4, episodes=2, seed=5)
    assert time.monotonic() - started < 5, "no real waiting"
    times = [seconds for seconds, _ in recording.events]
    frame_times = sorted(set(times))
    assert all(abs(t * 4 - round(t * 4)) < 1e-9 for t in frame_times), "frames fall on quarter seconds"
    assert recording.events[-1][0] - recording.events[-2][0] == pytest.approx(FINAL_HOLD), \
        "the last frame is held"


# --- The agent's-eye view -----------------------------------------------------------------


def catch_observer(egocentric=True):
    return Observer(["=", "o"], (5, 6), egocentric=egocentric, egocentric_player="paddle",
                    egocentric_radius=1, observe_state=["balls_left"] if not egocentric else ())


def catch_environment():
    from retro_gamer.game.loading import load_game

    source = load_game(str(CATCH))
    environment = Environment(source.factory, ["KEY_LEFT", "KEY_RIGHT"], "score")
    environment.reset()
    return environment


def test_the_window_is_outlined_on_empty_cells_and_the_edge_it_sees_turns_heavy():
    environment = catch_environment()
    observer = catch_observer()
    observer.start_episode(environment.game)
    observer.encode(environment.game, environment.drawn_cells)
    assert view_window(observer) == (1, 4, 3), "3x3 around the paddle at (2, 5)"
    canvas = Canvas(7, 8)
    board = [[" "] * 5 for _ in range(6)]  # the ball put in the top-left corner, the paddle where it is
    board[0][0], board[5][2] = "o", "="
    draw_board(canvas, 0, 0, environment.game, board, False, "", "")
    before = ["".join(character for character, _ in row) for row in canvas.cells]
    draw_window_outline(canvas, 0, 0, (5, 6), board, (1, 4, 3))
    after = ["".join(character for character, _ in row) for row in canvas.cells]
    assert after == before[:4] + [
        "│╭╌╌╌╮│",
        "│╎   ╎│",
        "│╎ = ╎│",
        "└─━━━─┘",
    ], "the ring on empty cells, the paddle kept; the row past the bottom is the edge it sees"
    assert canvas.cells[7][2] == ("━", "93") and canvas.cells[4][1] == ("╭", "93")
    draw_window_outline(canvas, 0, 0, (5, 6), board, (-1, -1, 3))
    top_left = ["".join(character for character, _ in row) for row in canvas.cells][:4]
    assert top_left == ["┏━━───┐", "┃o ╎  │", "┃  ╎  │", "│╌╌╯  │"], \
        "a window in the top-left corner: two sides are edge, and the ball is not hidden"


def test_a_full_board_view_has_no_window_and_the_hint_names_the_key_only_when_it_fits():
    full = catch_observer(egocentric=False)
    assert view_window(full) is None
    assert view_window(object()) is None, "a stand-in observer: no window"
    assert border_hint(QUIT_HINT, 32, has_window=False) == QUIT_HINT
    assert border_hint(QUIT_HINT, 33, has_window=True) == "Enter or Esc: quit, o: outline"
    assert border_hint(QUIT_HINT, 32, has_window=True) == "Enter/Esc: quit, o: outline"
    assert border_hint(QUIT_HINT, 5, has_window=True) == QUIT_HINT
    assert input_lines(full, False) == ["network input: the whole 5x6 board", "  channels: = o",
                                        "  state: balls_left"]
    assert input_lines(catch_observer(), False) == [
        "network input: 3x3 cells around paddle", "  channels: = o edge", "  o: outline the window"]
    assert input_lines(object(), False) == []


class WindowPolicy(FakePolicy):
    """The fake policy, with an observer that sees a window around the paddle of Catch."""

    actions = ["KEY_LEFT", "KEY_RIGHT"]

    def __init__(self, egocentric=True):
        super().__init__(straight=True)
        self.observer = catch_observer(egocentric)

    def q_values(self, board_codes, state_values):
        return np.array([0.1, 0.2, 0.3], np.float32)


def watcher_on_catch(egocentric):
    environment = catch_environment()
    policy = WindowPolicy(egocentric)
    policy.observer.start_episode(environment.game)
    policy.observer.encode(environment.game, environment.drawn_cells)
    screen = CapturingScreen((60, 20))
    watcher = Watcher(screen, action_labels(policy.actions), "ep_0001", 1, policy.observer)
    readout = Readout(1, 0, 0.0, np.array([0.1, 0.2, 0.3]), 2)
    watcher.show(environment.game, environment.board_characters, readout)
    return watcher, screen


def test_the_outline_key_toggles_the_outline_and_the_panel_names_the_inputs():
    watcher, screen = watcher_on_catch(egocentric=True)
    first = screen_text("".join(screen.written), (60, 20))
    assert not OUTLINE_CHARACTERS & set("".join(first))
    assert any("network input: 3x3 cells around" in line for line in first)
    assert any("channels: = o edge" in line for line in first)
    watcher.handle_key("o")
    shown = screen_text("".join(screen.written), (60, 20))
    assert "━" in "".join(shown) and "╎" in "".join(shown)
    assert any("o: hide the outline" in line for line in shown)
    watcher.handle_key("o")
    assert screen_text("".join(screen.written), (60, 20)) == first, "the outline goes again"
    watcher.handle_key("x")
    assert screen_text("".join(screen.written), (60, 20)) == first


def test_the_outline_key_changes_nothing_for_a_full_board_view():
    watcher, screen = watcher_on_catch(egocentric=False)
    writes = len(screen.written)
    watcher.handle_key("o")
    assert len(screen.written) == writes, "nothing drawn"
    text = "\n".join(screen_text("".join(screen.written), (60, 20)))
    assert "network input: the whole 5x6 board" in text and "o:" not in text


# --- retro-gamer play --record, without a terminal -------------------------------------------


def test_cli_record_without_a_terminal_plays_back_and_ends_on_plays_last_screen(snake_run, tmp_path):
    cast = tmp_path / "catch.cast"
    code, stdout, stderr = run_cli(["play", snake_run, "--record", cast, "--size", "100x30",
                                    "--seed", "4", "--episodes", "2"])
    assert code == 0, stderr
    assert stdout.startswith(f"recorded {cast}: ") and "100x30" in stdout
    header, events = read_asciicast(cast)
    assert (header["width"], header["height"]) == (100, 30)
    assert events[0][2].startswith("\x1b[?25l") and events[-1][2].endswith("\x1b[?25h"), \
        "the cursor hidden while it plays, shown again at the end"
    frame_gaps = {later[0] - earlier[0] for earlier, later in zip(events[1:-2], events[2:-1])}
    turn = 1 / 12  # Snake's framerate
    assert all(min(abs(gap - expected) for expected in (turn, PAUSE_BETWEEN_GAMES)) < 2e-6
               for gap in frame_gaps), f"one turn of the game's framerate, or the pause between games: {frame_gaps}"
    assert emulated_screen(header, events) == last_screen_play_draws(snake_run, (100, 30), 4, 2)
    for arguments in (["cat", cast],):  # 'asciinema play' too: in the pseudo-terminal test
        played = asciinema(*arguments)
        assert played.returncode == 0, played.stderr
        assert played.stdout == "".join(text for _, _, text in events), "asciinema writes what was recorded"


def test_cli_record_without_a_size_fits_the_picture(snake_run, tmp_path):
    cast = tmp_path / "fitted.cast"
    code, _, stderr = run_cli(["play", snake_run, "--record", cast, "--seed", "1"])
    assert code == 0, stderr
    header, events = read_asciicast(cast)
    shown = emulated_screen(header, events)
    assert shown == last_screen_play_draws(snake_run, (header["width"], header["height"]), 1)
    text = "\n".join(shown)
    assert "game over: score" in text and "channels: @ * > < ^ v edge" in text and "┌" in text


@pytest.mark.parametrize("arguments, code, message", [
    (["--record", "{tmp}/no/such/folder/x.cast"], 1,
     "error: cannot write the recording {tmp}/no/such/folder/x.cast: No such file or directory"),
    (["--record", "{tmp}"], 1, "error: cannot write the recording {tmp}: it is a folder"),
    (["--size", "60x20"], 2, "error: --size sets the size of a recording: give --record FILE.cast too"),
    (["--record", "{tmp}/x.cast", "--size", "33x30"], 1,
     "error: TerminalTooSmall: --size 33x30 is too small: the board, its border and the game state need 34x23"),
    (["--record", "{tmp}/x.cast", "--size", "60"], 2, "argument --size: expected COLUMNSxLINES, like 100x30"),
    (["--record", "{tmp}/x.cast", "--size", "0x9"], 2, "argument --size: columns and lines must be at least 1"),
])
def test_cli_record_mistakes_are_one_line_each(snake_run, tmp_path, arguments, code, message):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    run = run_cli if "no/such" in arguments[1] else run_main  # one in a real subprocess, the rest quick
    returned, stdout, stderr = run(["play", snake_run, *arguments])
    assert returned == code
    assert message.replace("{tmp}", str(tmp_path)) in stderr
    assert "Traceback" not in stderr
    assert not list(tmp_path.rglob("*.cast")) and not list(tmp_path.rglob(".*.tmp"))


# --- retro-gamer play --record, in a real pseudo-terminal -------------------------------------


def test_pty_record_what_the_screen_showed_with_the_outline_key(run_in_pty, snake_run, tmp_path):
    cast = tmp_path / "live.cast"
    size = (100, 30)
    child = run_in_pty(retro_gamer("play", str(snake_run), "--record", str(cast), "--framerate", "200"),
                       size=size)
    assert child.read_until_shown("game over: score"), child.output
    assert not OUTLINE_CHARACTERS & set(child.shown()), "no outline until the key"
    assert "┌─ Enter/Esc: quit, o: outline ─" in child.shown() and "o: outline the window" in child.shown()
    child.type(b"o")
    assert child.read_until_shown("o: hide the outline"), child.output
    assert {RING_HORIZONTAL, RING_VERTICAL} & set(child.shown()), "the outline is on the board"
    child.type(b"o")
    assert child.read_until_shown("o: outline the window"), child.output
    assert not OUTLINE_CHARACTERS & set(child.shown()), "the outline went with the key"
    child.type(b"O")
    assert child.read_until_shown("o: hide the outline"), child.output
    last_screen = on_screen(child.output, size)
    assert not cast.exists(), "written when play ends"
    child.type(b"\r")
    assert child.wait(10) == 0, child.output
    assert child.modes_now() == child.modes_before
    assert f"recorded {cast}: " in child.output.split("\x1b[?1049l")[-1]
    header, events = read_asciicast(cast)
    assert (header["width"], header["height"]) == size
    shown = emulated_screen(header, events)
    assert shown == last_screen, "the recording ends on the screen play showed last, outline and all"
    assert {RING_HORIZONTAL, RING_VERTICAL} & set("".join(shown))
    assert events[-1][0] - events[1][0] > 0.2, "real timing: the keys came a while after the first frame"
    for arguments in (["cat", cast], ["play", "--speed", "20", cast]):
        played = asciinema(*arguments)
        assert played.returncode == 0, played.stderr


# --- retro-gamer evaluate --record-best / --record-worst ----------------------------------------


def test_cli_evaluate_records_the_best_and_the_worst_greedy_game(egocentric_catch_run, tmp_path):
    best, worst = tmp_path / "best.cast", tmp_path / "worst.cast"
    code, stdout, stderr = run_cli(["evaluate", egocentric_catch_run, "--episodes", "6", "--seed", "2",
                                    "--record-best", best, "--record-worst", worst])
    assert code == 0, stderr
    score_row = next(line for line in stdout.splitlines() if line.startswith("score"))
    greedy_max, greedy_min = float(score_row.split()[4]), float(score_row.split()[3])
    assert f"recorded the best greedy game (game " in stdout and f"in {best}" in stdout
    assert f"recorded the worst greedy game (game " in stdout and f"in {worst}" in stdout
    assert "note:" not in stdout, "the replayed games are the evaluated ones"
    for path, score in ((best, greedy_max), (worst, greedy_min)):
        header, events = read_asciicast(path)
        text = "\n".join(emulated_screen(header, events))
        assert f"game over: score {score:g}" in text, (path, text)
        assert asciinema("cat", path).returncode == 0


@pytest.mark.parametrize("arguments, code, message", [
    (["--record-best", "{tmp}/b.cast", "--all-checkpoints"], 2,
     "error: --record-best and --record-worst record games of one checkpoint"),
    (["--size", "80x24"], 2, "error: --size sets the size of the recordings"),
    (["--record-worst", "{tmp}/none/w.cast"], 1, "error: cannot write the recording {tmp}/none/w.cast"),
])
def test_cli_evaluate_recording_mistakes(egocentric_catch_run, tmp_path, arguments, code, message):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    returned, _, stderr = run_main(["evaluate", egocentric_catch_run, "--episodes", "2", *arguments])
    assert returned == code and message.replace("{tmp}", str(tmp_path)) in stderr
    assert "Traceback" not in stderr and not list(tmp_path.rglob("*.cast"))


def test_cli_evaluate_record_best_on_a_run_without_checkpoints(tmp_path):
    run_dir = create_catch_run(tmp_path / "fresh")
    code, _, stderr = run_main(["evaluate", run_dir, "--record-best", tmp_path / "b.cast"])
    assert code == 1 and stderr.startswith("error: ") and "no checkpoints yet" in stderr
    assert len(stderr.strip().splitlines()) == 1 and not (tmp_path / "b.cast").exists()
