"""Watching the agent play: the drawing, the turn loop, and the real thing in a pseudo-terminal."""

import os
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from retro.examples import snake

from retro_gamer.game.environment import Environment
from retro_gamer.errors import ConfigError, TerminalTooSmall
from retro_gamer.show.play import (
    CHOSEN_MARKER,
    NO_OP_LABEL,
    Readout,
    Watcher,
    action_labels,
    check_terminal_size,
    draw_board,
    plan_layout,
    q_value_bar,
    q_value_lines,
    state_lines,
    watch,
)
from retro_gamer.show.terminal import REVERSE_VIDEO, Canvas

REPOSITORY = Path(__file__).resolve().parent.parent

# --- Stand-ins for a trained policy and the environment -------------------------
# The same classes run in-process here and, as source text, in the child
# process of the pseudo-terminal tests below.

from play_stand_ins import SNAKE_ACTIONS, FakePolicy, snake_environment


class FakeScreen:
    """A Screen without a terminal: a fixed size, scripted keys, and a record of what was written."""

    def __init__(self, size=(80, 30), keys=(), use_color=True):
        self.terminal_size = size
        self.keys = list(keys)
        self.use_color = use_color
        self.truecolor = False
        self.written = []
        self.entered = False
        self.left = False
        self.needs_full_redraw = False

    def size(self):
        return self.terminal_size

    def __enter__(self):
        self.entered = True
        return self

    def __exit__(self, *exception):
        self.left = True
        return False

    def write(self, text):
        self.written.append(text)

    def read_key(self, timeout=0):
        if self.keys:
            return self.keys.pop(0)
        return None


def started_snake_game():
    environment = snake_environment()
    environment.reset()
    return environment


# --- What goes on the screen --------------------------------------------------


def test_action_labels_end_with_the_no_op():
    assert action_labels(SNAKE_ACTIONS) == [*SNAKE_ACTIONS, NO_OP_LABEL]


def test_bars_run_from_empty_at_the_lowest_to_full_at_the_highest():
    assert q_value_bar(-2.0, -2.0, 6.0, width=8) == " " * 8
    assert q_value_bar(6.0, -2.0, 6.0, width=8) == "█" * 8
    assert q_value_bar(2.0, -2.0, 6.0, width=8) == "████    "
    assert q_value_bar(-1.5, -2.0, 6.0, width=8) == "▌" + " " * 7, "half a cell shows as a half block"


def test_bars_of_equal_values_are_all_full_and_nan_draws_no_bar():
    assert q_value_bar(3.0, 3.0, 3.0, width=4) == "████"
    assert q_value_bar(float("nan"), 0.0, 1.0, width=4) == "    "


def test_the_chosen_action_is_marked_and_highlighted():
    labels = action_labels(SNAKE_ACTIONS)
    lines = q_value_lines(labels, np.array([0.1, 2.5, -1.0, 0.0, 0.3], np.float32), chosen_action=1)
    assert len(lines) == 5
    chosen_text, chosen_style = lines[1]
    assert chosen_text.startswith(f"{CHOSEN_MARKER} KEY_UP") and chosen_text.endswith("+2.50")
    assert chosen_style == REVERSE_VIDEO
    assert all(style == "" and not text.startswith(CHOSEN_MARKER) for index, (text, style) in enumerate(lines) if index != 1)
    assert lines[4][0].startswith("  no-op")
    assert len({len(text) for text, _ in lines}) == 1, "the columns line up"


def test_nan_q_values_do_not_break_the_chart():
    lines = q_value_lines(["a", "b"], np.array([np.nan, 1.0]), chosen_action=1)
    assert "nan" in lines[0][0]


def test_state_lines_follow_retro_games_show_state():
    game = snake.create_game()
    assert [line.split(":")[0] for line in state_lines(game)] == sorted(game.state.keys())
    assert f"score: {game.state['score']}" in state_lines(game)
    game.show_state = ["energy", "not a key", "score"]
    assert state_lines(game) == ["energy: 150", "score: 0"]
    game.show_state = False
    assert state_lines(game) == []


def test_a_small_terminal_says_what_it_needs_and_what_it_has():
    with pytest.raises(TerminalTooSmall) as too_small:
        check_terminal_size((20, 10), (32, 16), 5)
    assert str(too_small.value) == (
        "TerminalTooSmall: the terminal is 20x10 but the board needs 34x18 plus 5 lines for the game state: "
        "enlarge the window and try again."
    )
    with pytest.raises(TerminalTooSmall, match="34x18 plus 1 line for"):
        check_terminal_size((34, 18), (32, 16), 1)
    with pytest.raises(TerminalTooSmall, match="needs 34x18: enlarge"):
        check_terminal_size((33, 18), (32, 16), 0)
    check_terminal_size((34, 23), (32, 16), 5)


def test_the_layout_centres_the_game_and_drops_the_panel_when_it_does_not_fit():
    wide = plan_layout((100, 30), (32, 16), 5, panel_size=(40, 11))
    assert wide.panel_left == wide.board_left + 34 + 2
    assert wide.board_left == (100 - (34 + 2 + 40)) // 2
    assert wide.board_top == (30 - 23) // 2
    narrow = plan_layout((60, 30), (32, 16), 5, panel_size=(40, 11))
    assert narrow.panel_left is None
    assert narrow.board_left == (60 - 34) // 2
    short = plan_layout((100, 23), (32, 16), 5, panel_size=(40, 30))
    assert short.panel_left is None, "a panel taller than the terminal is dropped too"


def test_the_board_is_drawn_in_a_box_with_the_agents_in_their_colours():
    environment = started_snake_game()
    game = environment.game
    canvas = Canvas(40, 20)
    draw_board(canvas, 1, 2, game, environment.board_characters, False, "top", "bottom")
    characters = ["".join(character for character, _ in row) for row in canvas.cells]
    assert characters[2][1:35] == "┌─ top " + "─" * 26 + "┐"
    assert characters[19][1:35] == "└─ bottom " + "─" * 23 + "┘"
    for y in range(16):
        assert characters[3 + y][1] == "│" and characters[3 + y][34] == "│"
        assert characters[3 + y][2:34] == "".join(environment.board_characters[y])
    cells = [cell for row in canvas.cells[3:19] for cell in row[2:34]]
    assert ("@", "31;40") in cells, "the apple is red_on_black"
    head_cells = [cell for cell in cells if cell[0] in "<>^v"]
    assert len(head_cells) == 1 and head_cells[0][1] == "37;40", "no colour of its own: the game's white_on_black"
    empty_x, empty_y = next((x, y) for y in range(16) for x in range(32) if game.is_empty((x, y)))
    assert canvas.cells[3 + empty_y][2 + empty_x] == (" ", "37;40"), "empty cells take the game's colour"


def test_the_highest_agent_gives_the_colour():
    environment = started_snake_game()
    game = environment.game
    apple = game.get_agent_by_name("Apple")

    class Marker:
        character = "X"
        color = "black_on_skyblue1"
        position = apple.position
        z = 5

    game.add_agent(Marker())
    game.step()
    canvas = Canvas(40, 20)
    draw_board(canvas, 0, 0, game, environment.board_characters, False, "", "")
    x, y = apple.position
    assert canvas.cells[1 + y][1 + x] == ("X", "30;48;5;117")


def a_readout(q_values=(0.5, 1.0, -1.0, 0.0, 0.25), chosen_action=1):
    return Readout(episode=1, turn=7, episode_reward=50.0, q_values=np.array(q_values), chosen_action=chosen_action)


def screen_text(canvas_output, size):
    """What a terminal shows after ``canvas_output``: the escape sequences replayed onto a grid."""
    columns, lines = size
    grid = [[" "] * columns for _ in range(lines)]
    row = column = 0
    for match in re.finditer(r"\x1b\[([?0-9;]*)([A-Za-z])|(.)", canvas_output, re.S):
        parameters, command, character = match.groups()
        if character is not None:
            if row < lines and column < columns:
                grid[row][column] = character
            column += 1
        elif command == "H":
            row, column = (int(number) - 1 for number in (parameters or "1;1").split(";"))
        elif command == "J":
            grid = [[" "] * columns for _ in range(lines)]
    return ["".join(row) for row in grid]


def test_the_watcher_shows_board_state_and_panel_and_repaints_only_changes():
    environment = started_snake_game()
    screen = FakeScreen(size=(90, 30))
    watcher = Watcher(screen, action_labels(SNAKE_ACTIONS), "ep_0042", episodes=3)
    watcher.show(environment.game, environment.board_characters, a_readout())
    shown = screen_text(screen.written[-1], screen.size())
    text = "\n".join(shown)
    assert "checkpoint  ep_0042" in text and "episode     1 of 3" in text and "turn        7" in text
    assert f"{CHOSEN_MARKER} KEY_UP" in text and "  no-op" in text
    assert "score: 0" in text and "energy: 150" in text
    top = next(row for row, line in enumerate(shown) if "┌" in line)
    assert shown[top + 17].count("└") == 1
    watcher.show(environment.game, environment.board_characters, a_readout())
    assert screen.written[-1] == "", "nothing changed, nothing written"
    watcher.show(environment.game, environment.board_characters, a_readout(chosen_action=0))
    assert 0 < len(screen.written[-1]) < 300, "only the two chart lines are rewritten"


def test_a_narrow_terminal_shows_the_game_without_the_panel():
    environment = started_snake_game()
    screen = FakeScreen(size=(40, 24))
    Watcher(screen, action_labels(SNAKE_ACTIONS), "ep_0042", 1).show(
        environment.game, environment.board_characters, a_readout())
    text = "\n".join(screen_text(screen.written[-1], screen.size()))
    assert "┌" in text and "score: 0" in text
    assert "checkpoint" not in text and "KEY_UP" not in text


# --- The turn loop -----------------------------------------------------------------


def test_escape_during_play_stops_the_game_at_once():
    screen = FakeScreen(keys=[None, None, "x", "escape"])
    policy = FakePolicy()
    watch(policy, snake_environment(), screen, framerate=1000)
    assert screen.entered and screen.left
    assert policy.observer.started


def test_a_game_plays_to_its_end_and_its_last_frame_waits_for_enter():
    screen = FakeScreen()
    environment = snake_environment()
    screen.read_key = lambda timeout=0: "enter" if timeout is None else None
    watch(FakePolicy(straight=True), environment, screen, framerate=1000)
    assert not environment.game.playing, "the snake ran into a wall"
    last_frame = "\n".join(screen_text("".join(screen.written), screen.size()))
    assert f"game over: score {environment.game.state['score']}" in last_frame


def test_max_turns_ends_a_game_that_goes_on():
    screen = FakeScreen()
    screen.read_key = lambda timeout=0: "enter" if timeout is None else None
    environment = snake_environment()
    watch(FakePolicy(straight=True), environment, screen, framerate=1000, max_turns=1)
    assert environment.game.turn_number == 1, "a snake starts at least a cell from the wall: it lives one turn"
    last_frame = "\n".join(screen_text("".join(screen.written), screen.size()))
    assert f"turn limit: score {environment.game.state['score']}" in last_frame


def test_several_episodes_play_in_a_row(monkeypatch):
    monkeypatch.setattr("retro_gamer.show.play.PAUSE_BETWEEN_GAMES", 0.0)
    games = []

    class CountingEnvironment(Environment):
        def reset(self):
            super().reset()
            games.append(self.game)

    screen = FakeScreen()
    screen.read_key = lambda timeout=0: "enter" if timeout is None else None
    environment = CountingEnvironment(snake.create_game, SNAKE_ACTIONS, "score")
    watch(FakePolicy(straight=True), environment, screen, framerate=1000, episodes=3)
    assert len(games) == 3 and not any(game.playing for game in games)
    assert "episode     3 of 3" in "\n".join(screen_text("".join(screen.written), screen.size()))


def test_the_size_is_checked_before_the_screen_changes():
    screen = FakeScreen(size=(20, 10))
    with pytest.raises(TerminalTooSmall, match="TerminalTooSmall: the terminal is 20x10 but the board needs 34x18 plus 5 lines"):
        watch(FakePolicy(), snake_environment(), screen)
    assert not screen.entered and screen.written == []


@pytest.mark.parametrize("options", [{"framerate": 0}, {"framerate": -3}, {"episodes": 0}])
def test_nonsense_options_are_refused(options):
    with pytest.raises(ConfigError):
        watch(FakePolicy(), snake_environment(), FakeScreen(), **options)


# --- The real thing, in a pseudo-terminal -----------------------------------------

STAND_INS_SCRIPT = Path(__file__).resolve().parent / "play_stand_ins.py"


class PtyProcess:
    """A child process whose stdin, stdout and stderr are a pseudo-terminal of a given size."""

    def __init__(self, arguments, size=(90, 30), environment=None, stdin=None):
        self.master_fd, self.slave_fd = os.openpty()
        self.size = size
        columns, lines = size
        termios.tcsetwinsize(self.slave_fd, (lines, columns))
        self.modes_before = termios.tcgetattr(self.slave_fd)
        child_environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
        child_environment.update({"TERM": "xterm-256color", **(environment or {})})
        self.process = subprocess.Popen(
            arguments, stdin=stdin if stdin is not None else self.slave_fd, stdout=self.slave_fd,
            stderr=self.slave_fd, env=child_environment, cwd=REPOSITORY, start_new_session=True,
        )
        self.output = ""

    def read(self, seconds):
        """Collect what the child writes for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (time_left := deadline - time.monotonic()) > 0:
            if select.select([self.master_fd], [], [], time_left)[0]:
                self.output += os.read(self.master_fd, 65536).decode("utf-8", errors="replace")

    def shown(self):
        """The alternate screen as the user sees it now, one string (lines joined by newlines)."""
        return "\n".join(on_screen(self.output, self.size))

    def read_until_shown(self, text, seconds=10.0):
        """Collect output until ``text`` shows on the screen; whether it did within ``seconds``."""
        deadline = time.monotonic() + seconds
        while text not in self.shown() and time.monotonic() < deadline:
            self.read(0.05)
        return text in self.shown()

    def type(self, keys):
        os.write(self.master_fd, keys)

    def wait(self, seconds):
        """The exit code, collecting output meanwhile; None if still running after ``seconds``."""
        deadline = time.monotonic() + seconds
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.02)
        if self.process.poll() is not None:
            self.drain()
        else:
            self.read(0.05)
        return self.process.poll()

    def drain(self):
        """Collect everything a child that has exited left in the terminal.

        Reading for a fixed time is not enough on a busy machine: the last
        frames and the restore sequence can still be waiting after it.
        """
        while select.select([self.master_fd], [], [], 0.2)[0]:
            self.output += os.read(self.master_fd, 65536).decode("utf-8", errors="replace")

    def modes_now(self):
        return termios.tcgetattr(self.slave_fd)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master_fd)
        os.close(self.slave_fd)


@pytest.fixture
def run_in_pty():
    started = []

    def start(arguments, **options):
        child = PtyProcess(arguments, **options)
        started.append(child)
        return child

    yield start
    for child in started:
        child.close()


def play_script(framerate=12, episodes=1, policy="apple"):
    return [sys.executable, str(STAND_INS_SCRIPT), str(framerate), str(episodes), policy]


def on_screen(output, size):
    """The alternate screen as the user sees it, from everything written while it was shown."""
    if "\x1b[?1049h" not in output:
        return []
    while_shown = output.split("\x1b[?1049h", 1)[1].split("\x1b[?1049l", 1)[0]
    return screen_text(while_shown, size)


def test_pty_the_board_and_border_appear_and_enter_quits_within_a_second(run_in_pty):
    child = run_in_pty(play_script())
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    child.read(0.3)
    shown = on_screen(child.output, (90, 30))
    top = next(row for row, line in enumerate(shown) if "┌" in line)
    left = shown[top].index("┌")
    assert shown[top][left + 33] == "┐"
    assert shown[top + 17][left:left + 34] == "└" + "─" * 32 + "┘"
    assert all(shown[top + 1 + y][left] == "│" == shown[top + 1 + y][left + 33] for y in range(16))
    board = "".join(shown[top + 1 + y][left + 1:left + 33] for y in range(16))
    assert "@" in board and any(head in board for head in "<>^v")
    assert shown[top + 18][left:].startswith("apple_dx: ")
    assert shown[top + 18 + 4][left:].startswith("score: ")
    assert "\x1b[0;31;40m@" in child.output, "the apple is red on black"
    assert "\x1b[?25l" in child.output, "the cursor is hidden"
    child.type(b"\r")
    pressed = time.monotonic()
    assert child.wait(5) == 0, child.output
    assert time.monotonic() - pressed < 1.0
    assert child.output.rstrip().endswith("\x1b[?25h\x1b[?1049l"), "cursor shown, main screen back"
    assert child.modes_now() == child.modes_before


def test_pty_escape_quits_within_a_second_and_restores_the_modes(run_in_pty):
    child = run_in_pty(play_script())
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    child.type(b"\x1b")
    pressed = time.monotonic()
    assert child.wait(5) == 0, child.output
    assert time.monotonic() - pressed < 1.0
    assert child.modes_now() == child.modes_before


def test_pty_an_arrow_key_does_not_quit(run_in_pty):
    child = run_in_pty(play_script())
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    child.type(b"\x1b[A")
    assert child.wait(0.5) is None, "still playing"
    child.type(b"\n")
    assert child.wait(5) == 0


def test_pty_the_final_score_stays_until_enter(run_in_pty):
    child = run_in_pty(play_script(framerate=200, policy="straight"))
    assert child.read_until_shown("game over: score "), child.output
    assert child.wait(0.5) is None, "the last frame waits"
    child.type(b"\r")
    assert child.wait(5) == 0
    assert child.modes_now() == child.modes_before


def test_pty_a_tiny_window_is_refused_before_the_screen_changes(run_in_pty):
    child = run_in_pty(play_script(), size=(20, 10))
    assert child.wait(10) == 1
    assert child.output.strip() == (
        "error: TerminalTooSmall: the terminal is 20x10 but the board needs 34x18 plus 5 lines for the game state: "
        "enlarge the window and try again."
    )
    assert child.modes_now() == child.modes_before


def test_pty_sigterm_restores_the_terminal(run_in_pty):
    child = run_in_pty(play_script())
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    child.process.send_signal(signal.SIGTERM)
    assert child.wait(5) == 128 + signal.SIGTERM
    assert child.output.rstrip().endswith("\x1b[?25h\x1b[?1049l")
    assert child.modes_now() == child.modes_before


def test_pty_ctrl_c_restores_the_terminal(run_in_pty):
    child = run_in_pty(play_script())
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    child.process.send_signal(signal.SIGINT)
    assert child.wait(5) != 0
    assert "\x1b[?1049l" in child.output
    assert child.modes_now() == child.modes_before


# Run a command the way a shell runs a job: in a process group of its own whose
# parent is in the same session. (A stop signal to a group without such a
# parent, an "orphaned" group, is discarded by the kernel.) Writes the job's
# pid to the file named first, then waits for it.
JOB_LAUNCHER = """
import os, sys
job = os.fork()
if job == 0:
    os.setpgid(0, 0)
    os.execv(sys.argv[2], sys.argv[2:])
with open(sys.argv[1], "w") as pid_file:
    pid_file.write(str(job))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(job, 0)[1]))
"""


def process_state(pid):
    """The state letter of /proc/<pid>/stat: R running, S sleeping, T stopped, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_pty_ctrl_z_gives_the_terminal_back_and_fg_takes_it_again(run_in_pty, tmp_path):
    pid_file = tmp_path / "job.pid"
    child = run_in_pty([sys.executable, "-c", JOB_LAUNCHER, str(pid_file), *play_script()])
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    job = int(pid_file.read_text())
    try:
        os.kill(job, signal.SIGTSTP)
        deadline = time.monotonic() + 5
        while process_state(job) != "T" and time.monotonic() < deadline:
            child.read(0.02)
        assert process_state(job) == "T", "the job stopped"
        child.read(0.1)
        assert child.output.rstrip().endswith("\x1b[?25h\x1b[?1049l"), "cursor shown, main screen back"
        assert child.modes_now() == child.modes_before, "echo and line mode back while stopped"
        stopped_output = len(child.output)
        os.kill(job, signal.SIGCONT)
        child.read(0.5)
        after_fg = child.output[stopped_output:]
        assert after_fg.startswith("\x1b[?1049h"), "the alternate screen again"
        assert child.modes_now() != child.modes_before, "keys one at a time again"
        shown = "\n".join(screen_text(after_fg.split("\x1b[?1049h", 1)[1], (90, 30)))
        assert "└" + "─" * 32 + "┘" in shown and "checkpoint  ep_0042" in shown, "the whole frame redrawn"
        child.type(b"\r")
        assert child.wait(5) == 0, child.output
        assert child.modes_now() == child.modes_before
    finally:
        if child.process.poll() is None:  # a failed test must not leave the job behind
            os.kill(job, signal.SIGKILL)


def test_pty_a_closed_terminal_ends_play_instead_of_spinning(run_in_pty):
    child = run_in_pty(play_script())
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    os.close(child.master_fd)  # the terminal window goes away
    child.master_fd = os.open(os.devnull, os.O_RDONLY)  # for close() at the end
    deadline = time.monotonic() + 5
    while child.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert child.process.poll() == 0, "play noticed its terminal was gone and ended quietly"


def test_pty_no_color_means_no_colour(run_in_pty):
    child = run_in_pty(play_script(), environment={"NO_COLOR": "1"})
    assert child.read_until_shown("checkpoint  ep_0042"), child.output
    child.read(0.2)
    child.type(b"\r")
    assert child.wait(5) == 0
    assert not re.search(r"\x1b\[0;[0-9;]+m", child.output)


def test_pty_input_that_is_not_a_terminal_is_refused(run_in_pty):
    child = run_in_pty(play_script(), stdin=subprocess.DEVNULL)
    assert child.wait(10) == 1
    assert child.output.strip().startswith("error: play needs an interactive terminal")


# --- End to end: retro-gamer play on a run trained for a few episodes ---------------


def retro_gamer(*arguments):
    return [sys.executable, "-m", "retro_gamer", *arguments]


@pytest.fixture(scope="module")
def trained_catch_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "catch"
    for command in (
        retro_gamer("create", "--game", str(REPOSITORY / "tests" / "games" / "catch"), "--output", str(run_dir),
                    "--training-episodes", "3"),
        retro_gamer("train", str(run_dir)),
    ):
        finished = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr
    checkpoint_names = sorted(path.stem for path in (run_dir / "checkpoints").glob("ep_*.npz"))
    assert checkpoint_names, "training saved a checkpoint"
    return run_dir, checkpoint_names


def test_cli_play_shows_the_trained_agent_until_enter(run_in_pty, trained_catch_run):
    run_dir, checkpoint_names = trained_catch_run
    child = run_in_pty(retro_gamer("play", str(run_dir), "--framerate", "200"), size=(60, 20))
    assert child.read_until_shown("game over: score"), child.output
    shown = child.shown()
    assert f"checkpoint  {checkpoint_names[-1]}" in shown, "the latest checkpoint by default"
    assert "KEY_LEFT" in shown and "KEY_RIGHT" in shown and "no-op" in shown
    lines = shown.split("\n")
    top = next(row for row, line in enumerate(lines) if "┌" in line)
    left = lines[top].index("┌")
    assert lines[top][left + 6] == "┐" and lines[top + 7][left] == "└" and lines[top + 7][left + 6] == "┘"
    assert "=" in lines[top + 6][left + 1:left + 6], "the paddle on the bottom row"
    panel_left = lines[top].index("checkpoint")
    assert lines[top + 8][left:panel_left].startswith("balls_l"), "state lines stop where the panel starts"
    assert lines[top + 8][panel_left - 1] == " ", "a state line never runs into the panel"
    assert child.wait(0.3) is None, "the final score stays on screen"
    child.type(b"\r")
    assert child.wait(5) == 0, child.output
    assert child.modes_now() == child.modes_before


def test_cli_play_a_chosen_checkpoint_with_or_without_its_extension(run_in_pty, trained_catch_run):
    run_dir, checkpoint_names = trained_catch_run
    child = run_in_pty(retro_gamer("play", str(run_dir), "--checkpoint", checkpoint_names[0] + ".npz"))
    assert child.read_until_shown(f"checkpoint  {checkpoint_names[0]}"), child.output
    child.type(b"\x1b")
    assert child.wait(5) == 0, child.output


def test_cli_play_an_unknown_checkpoint_lists_the_ones_that_exist(run_in_pty, trained_catch_run):
    run_dir, checkpoint_names = trained_catch_run
    child = run_in_pty(retro_gamer("play", str(run_dir), "--checkpoint", "ep_9999"))
    assert child.wait(20) not in (None, 0)
    assert "ep_9999" in child.output and all(name in child.output for name in checkpoint_names)
    assert "Traceback" not in child.output and "\x1b[?1049h" not in child.output


def test_cli_play_in_a_tiny_window_prints_one_line(run_in_pty, trained_catch_run):
    run_dir, _ = trained_catch_run
    child = run_in_pty(retro_gamer("play", str(run_dir)), size=(6, 5))
    assert child.wait(20) == 1
    assert child.output.strip() == (
        "error: TerminalTooSmall: the terminal is 6x5 but the board needs 7x8 plus 2 lines for the game state: "
        "enlarge the window and try again."
    )
    assert child.modes_now() == child.modes_before


@pytest.mark.parametrize("signal_number, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_cli_play_stopped_by_a_signal_gives_the_terminal_back(run_in_pty, trained_catch_run, signal_number, exit_code):
    run_dir, _ = trained_catch_run
    child = run_in_pty(retro_gamer("play", str(run_dir), "--framerate", "5"))
    assert child.read_until_shown("checkpoint"), child.output
    child.process.send_signal(signal_number)
    assert child.wait(5) == exit_code, child.output
    assert "\x1b[?25h\x1b[?1049l" in child.output and "Traceback" not in child.output
    assert child.modes_now() == child.modes_before


def test_a_seed_shows_the_games_that_evaluate_plays():
    """play --seed N starts game i exactly like evaluate --seed N's game i."""
    from retro_gamer.show.evaluate import seed_game

    def first_frame(seed):
        screen = FakeScreen(keys=["escape"])
        watch(FakePolicy(), snake_environment(), screen, framerate=1000, seed=seed)
        return screen.written[0]

    assert first_frame(3) == first_frame(3)
    assert first_frame(3) != first_frame(4)
    seed_game(3, 0)
    environment = snake_environment()
    environment.reset()
    apple = environment.game.get_agent_by_name("Apple").position
    screen = FakeScreen(keys=["escape"])
    played = snake_environment()
    watch(FakePolicy(), played, screen, framerate=1000, seed=3)
    assert played.turn == 0 and played.game.get_agent_by_name("Apple").position == apple
