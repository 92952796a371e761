"""Recording a game as an asciicast: the play screen, kept in a file.

A terminal program's picture is nothing but the text it writes (escape
sequences included, see ``terminal.py``). Keep every piece of that text with
the moment it was written, and the picture can be played back later, with
its timing, by anything that understands the pieces. asciinema's *asciicast
v2* format is that list, as JSON lines: a header, then one event per write::

    {"version": 2, "width": 100, "height": 30, "timestamp": 1700000000, ...}
    [0.0, "o", "\\u001b[?25l\\u001b[2J"]
    [0.000412, "o", "\\u001b[0m\\u001b[2J\\u001b[1;1H┌─ Enter or Esc: quit ..."]
    [0.083711, "o", "\\u001b[9;14H@"]

Each event is ``[seconds since the start, "o" (output), text]``, the times
never decreasing. ``asciinema play game.cast`` plays it in a terminal,
asciinema-player on a web page.

Two ways to record, one format:

- In a terminal (``play --record game.cast``), ``TeeScreen`` stands between
  the game and the real ``Screen``: every frame the Painter writes goes to
  the terminal and, stamped with the real time, into the recording. You
  watch while it records, keys and all (the outline key, Ctrl-Z, quitting
  early), and the file holds exactly what the screen showed.
- Without one (``play --record game.cast --size 100x30``, on a server or in a
  script), ``HeadlessScreen`` has the given size, draws into the recording
  only, and keeps its own clock: a turn advances it by one turn of the
  game's framerate, a pause between games by that pause, and nothing waits
  in real time. A thousand turns record in seconds and play back at the
  game's speed. The last frame is held for ``FINAL_HOLD`` seconds.

The header's ``idle_time_limit`` lets players shorten any longer pause (the
wait for Enter after the last game, a Ctrl-Z) to that many seconds.

The cast starts by hiding the cursor and clearing the screen, and ends by
showing the cursor again at the bottom-left, so ``asciinema play`` gives the
terminal back as it found it. It is written once, at the end, atomically
(``run/atomic.py``): a recording is complete or absent, never torn.

``evaluate --record-best FILE --record-worst FILE`` records the greedy
games with the highest and the lowest total reward: each game is played
again from its seed, which gives the same game (retro games draw their
randomness from the seeded generators), and checked against the evaluation.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from retro_gamer.errors import ConfigError, RetroGamerError, TerminalTooSmall
from retro_gamer.game.environment import Environment
from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.show.agent_view import input_panel_lines
from retro_gamer.show.evaluate import final_score
from retro_gamer.show.play import (
    PANEL_GAP, PAUSE_BETWEEN_GAMES, Readout, action_labels, panel_lines, state_lines, watch)
from retro_gamer.show.policy import load_policy
from retro_gamer.show.terminal import (
    CLEAR_SCREEN, HIDE_CURSOR, RESET_STYLE, SHOW_CURSOR, Screen, move_to)

ASCIICAST_VERSION = 2
FINAL_HOLD = PAUSE_BETWEEN_GAMES  # seconds the last frame stays in a recording made without a terminal
IDLE_TIME_LIMIT = 2.0  # seconds: players shorten longer pauses to this
HEADLESS_TERM = "xterm-256color"
FIT_MARGIN = 1  # blank cells around the picture in a recording sized to fit


class Recording:
    """Output events with their times, and the picture's size: an asciicast in memory."""

    def __init__(self, size, title="", term=HEADLESS_TERM):
        self.width, self.height = size
        self.title = title
        self.term = term
        self.events = []  # (seconds since the start, text)
        self.started_at = int(time.time())

    def grow_to(self, size):
        """Make room for a frame of ``size`` (a terminal can grow while it records)."""
        self.width, self.height = max(self.width, size[0]), max(self.height, size[1])

    def add(self, seconds, text):
        """Keep ``text``, written ``seconds`` after the start; an empty write is no event."""
        if text:
            self.events.append((seconds, text))

    @property
    def duration(self):
        """Seconds from the start to the last event."""
        return self.events[-1][0] if self.events else 0.0

    def frame_count(self):
        """How many frames were drawn: the events between the opening and the closing one."""
        return max(0, len(self.events) - 2)

    def asciicast(self):
        """The recording as asciicast v2 text: the header line, then one line per event."""
        header = {"version": ASCIICAST_VERSION, "width": self.width, "height": self.height,
                  "timestamp": self.started_at, "idle_time_limit": IDLE_TIME_LIMIT,
                  "env": {"TERM": self.term}}
        if self.title:
            header["title"] = self.title
        lines = [json.dumps(header, ensure_ascii=False)]
        for seconds, text in self.events:
            # Rounding never reverses the order of two times, so times stay non-decreasing.
            lines.append(json.dumps([round(seconds, 6), "o", text], ensure_ascii=False))
        return "\n".join(lines) + "\n"

    def save(self, path):
        """Write the file all at once (a temporary file renamed over ``path``)."""
        try:
            write_text_atomically(path, self.asciicast())
        except OSError as error:
            raise unwritable(path, error) from None


def opening():
    """What a recording starts with: no cursor, a blank screen."""
    return HIDE_CURSOR + RESET_STYLE + CLEAR_SCREEN


def closing(height):
    """What a recording ends with: default style, the cursor back, at the bottom-left."""
    return RESET_STYLE + move_to(0, height - 1) + SHOW_CURSOR


class TeeScreen:
    """A real ``Screen`` whose frames are also kept, with the real time, in a Recording."""

    def __init__(self, screen, recording):
        self.screen = screen
        self.recording = recording
        self.started = None

    @property
    def use_color(self):
        return self.screen.use_color

    @property
    def truecolor(self):
        return self.screen.truecolor

    @property
    def needs_full_redraw(self):
        return self.screen.needs_full_redraw

    @needs_full_redraw.setter
    def needs_full_redraw(self, value):
        self.screen.needs_full_redraw = value

    def seconds(self):
        """Seconds since recording began."""
        return time.monotonic() - self.started

    def size(self):
        size = self.screen.size()
        self.recording.grow_to(size)
        return size

    def __enter__(self):
        self.screen.__enter__()
        self.started = time.monotonic()
        self.recording.add(0.0, opening())
        return self

    def __exit__(self, exception_type, exception, traceback):
        self.recording.add(self.seconds(), closing(self.recording.height))
        return self.screen.__exit__(exception_type, exception, traceback)

    def write(self, text):
        written_at = self.seconds()
        self.screen.write(text)
        self.recording.add(written_at, text)

    def read_key(self, timeout=0):
        return self.screen.read_key(timeout)


class HeadlessScreen:
    """A screen of a given size with no terminal behind it: frames go into a Recording only.

    Its clock is the frame schedule: waiting ``t`` seconds for a key moves it
    on by ``t`` at once, and no key ever comes. Waiting for Enter after the
    last game holds the last frame ``FINAL_HOLD`` seconds, then "presses" it.
    """

    def __init__(self, recording, use_color=True, truecolor=False):
        self.recording = recording
        self.use_color = use_color
        self.truecolor = truecolor
        self.needs_full_redraw = False
        self.now = 0.0

    def clock(self):
        return self.now

    def size(self):
        return self.recording.width, self.recording.height

    def __enter__(self):
        self.recording.add(self.now, opening())
        return self

    def __exit__(self, exception_type, exception, traceback):
        self.recording.add(self.now, closing(self.recording.height))
        return False

    def write(self, text):
        self.recording.add(self.now, text)

    def read_key(self, timeout=0):
        if timeout is None:
            self.now += FINAL_HOLD
            return "enter"
        self.now += timeout
        return None


# --- Checks made before anything is played -------------------------------------------


def unwritable(path, error):
    """The error for a recording that cannot be written."""
    reason = error.strerror or str(error)
    return RetroGamerError(
        f"cannot write the recording {path}: {reason}; check that its folder exists and is writable")


def check_writable(path):
    """Fail now, before a game is played, if a file cannot be written at ``path``."""
    path = Path(path)
    if path.is_dir():
        raise RetroGamerError(
            f"cannot write the recording {path}: it is a folder; give a file name such as "
            f"{path / 'game.cast'}")
    try:
        with tempfile.TemporaryFile(dir=path.parent if str(path.parent) else "."):
            pass
    except OSError as error:
        raise unwritable(path, error) from None


def recording_size_needed(game, panel_size):
    """``(columns, lines)`` that fit the board in its box, the state lines and the panel beside it."""
    board_width, board_height = game.board_size
    box_width, box_height = board_width + 2, board_height + 2
    lines = state_lines(game)
    widest_state = max((len(line) for line in lines), default=0)
    columns = max(box_width + PANEL_GAP + panel_size[0], widest_state)
    rows = max(box_height + len(lines), panel_size[1])
    return columns + 2 * FIT_MARGIN, rows + 2 * FIT_MARGIN


def panel_size_for(policy, game, episodes, max_turns):
    """The panel's size with wide numbers in it, so that it fits all game long."""
    labels = action_labels(policy.actions)
    readout = Readout(episode=episodes, turn=max_turns, episode_reward=-99999.0,
                      q_values=np.full(len(labels), -99999.0), chosen_action=0,
                      status=f"turn limit: {policy.reward_key} {game.state.get(policy.reward_key)}0000")
    panel = panel_lines(labels, policy.checkpoint_name, episodes, readout)
    chart_width = max(len(text) for text, _ in panel)
    panel += input_panel_lines(policy.observer, False, chart_width)
    return max(len(text) for text, _ in panel), len(panel)


def check_size_fits(size, game):
    """A --size too small for the board, its box and the state lines is refused."""
    columns, lines = size
    box_width, box_height = game.board_size[0] + 2, game.board_size[1] + 2
    state_line_count = len(state_lines(game))
    if columns >= box_width and lines >= box_height + state_line_count:
        return
    needed = f"{box_width}x{box_height + state_line_count}"
    raise TerminalTooSmall(
        f"TerminalTooSmall: --size {columns}x{lines} is too small: the board, its border and "
        f"the game state need {needed} (and more columns for the Q-value panel). "
        "Give a larger --size, or leave it out for a size that fits.")


def headless_use_color(environment=None):
    """Colour in a recording unless NO_COLOR says no (the file is not a terminal to ask)."""
    environment = os.environ if environment is None else environment
    return not environment.get("NO_COLOR")


def game_name(policy):
    """The game's name for a recording's title: its module, or its file or folder's name."""
    return Path(policy.source.display_name.rstrip("/\\")).name or policy.source.display_name


# --- retro-gamer play --record --------------------------------------------------------


def command_play_recorded(run_dir, record, size=None, checkpoint=None, framerate=None, episodes=1,
                          seed=None, stream=None):
    """``retro-gamer play --record FILE``: play as ``play`` does, and keep the show in FILE.

    In a terminal and without ``size``: shown and recorded live. With
    ``size``, or without a terminal: recorded only, at ``size`` (default: just
    big enough), with no waiting. Returns 0; Ctrl-C saves what was recorded,
    then goes on as an interruption.
    """
    stream = stream or sys.stdout
    if record is None:
        raise ConfigError("--size sets the size of a recording: give --record FILE.cast too")
    check_writable(record)
    policy = load_policy(run_dir, checkpoint)
    environment = Environment(policy.source.factory, policy.actions, policy.reward_key)
    title = f"retro-gamer play: {game_name(policy)}, {policy.checkpoint_name}"
    live = size is None and sys.stdin.isatty() and sys.stdout.isatty()
    if live:
        screen = Screen()
        recording = Recording(screen.size(), title, term=os.environ.get("TERM") or HEADLESS_TERM)
        recorder = TeeScreen(screen, recording)
    else:
        environment.reset()  # a game to measure; watch starts its own
        if size is None:
            size = recording_size_needed(environment.game, panel_size_for(
                policy, environment.game, episodes, policy.max_turns))
        check_size_fits(size, environment.game)
        recording = Recording(size, title)
        recorder = HeadlessScreen(recording, use_color=headless_use_color())
    try:
        watch(policy, environment, recorder, framerate, episodes, policy.max_turns, seed)
    except KeyboardInterrupt:
        if recording.events:
            recording.save(record)
        raise
    recording.save(record)
    print(f"recorded {record}: {recording.frame_count()} frames, {recording.duration:.1f} seconds, "
          f"{recording.width}x{recording.height}; play it with 'asciinema play {record}'", file=stream)
    return 0


# --- retro-gamer evaluate --record-best / --record-worst --------------------------------


def check_recording_options(targets, size, all_checkpoints):
    """The recording options of evaluate make sense together, and their files can be written."""
    if size is not None and not targets:
        raise ConfigError("--size sets the size of the recordings: give --record-best or --record-worst too")
    if targets and all_checkpoints:
        raise ConfigError(
            "--record-best and --record-worst record games of one checkpoint: "
            "leave out --all-checkpoints (or give --checkpoint NAME)")
    for path in targets.values():
        check_writable(path)


def record_game(policy, seed, game_index, size=None, title=""):
    """Play evaluate's game ``game_index`` again with the greedy policy, into a Recording.

    Returns ``(recording, environment)``: the environment holds the game as it ended.
    """
    environment = Environment(policy.source.factory, policy.actions, policy.reward_key)
    environment.reset()
    if size is None:
        size = recording_size_needed(environment.game, panel_size_for(
            policy, environment.game, 1, policy.max_turns))
    check_size_fits(size, environment.game)
    recording = Recording(size, title)
    screen = HeadlessScreen(recording, use_color=headless_use_color())
    watch(policy, environment, screen, None, 1, policy.max_turns, seed, first_game=game_index)
    return recording, environment


def record_extreme_games(policy, greedy, seed, targets, size=None):
    """Record the best and/or the worst greedy game; the lines that tell what was written.

    ``greedy`` is the evaluation's EpisodeStats; ``targets`` maps "best" and
    "worst" to file paths. Best and worst go by total reward; of equal games,
    the first.
    """
    rewards = np.asarray(greedy.rewards)
    chosen = {"best": int(np.argmax(rewards)), "worst": int(np.argmin(rewards))}
    lines = [""]
    for which, path in targets.items():
        game_index = chosen[which]
        title = (f"retro-gamer evaluate: {game_name(policy)}, the {which} greedy game of "
                 f"{len(rewards)} ({policy.checkpoint_name}, seed {seed}, game {game_index + 1})")
        recording, environment = record_game(policy, seed, game_index, size, title)
        recording.save(path)
        lines.append(f"recorded the {which} greedy game (game {game_index + 1} of {len(rewards)}, "
                     f"total reward {rewards[game_index]:.1f}, {greedy.lengths[game_index]} turns) "
                     f"in {path}")
        score = final_score(environment.game)
        same_length = environment.turn == greedy.lengths[game_index]
        same_score = not greedy.scores or score == greedy.scores[game_index]
        if not (same_length and same_score):
            lines.append(f"  note: replayed from its seed, the game went differently ({environment.turn} "
                         "turns): the game draws randomness that the seed does not control")
    return lines
