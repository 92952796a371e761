"""Watching a trained agent play: what does the network think, turn by turn?

``retro-gamer play RUN_DIR`` loads a checkpoint and lets the *greedy* policy
drive a fresh game. At every turn the network scores every action ``a`` in the
current observation ``s``:

    Q(s, a) = the reward the agent expects from now on if it takes a now
              (and plays its best afterwards), discounted by gamma per turn

and the agent takes the best-scored one, ``a* = argmax_a Q(s, a)``. There is
no exploration here (epsilon is 0): what you watch is exactly what training
produced.

Beside the board a small bar chart shows Q(s, a) for every action, the chosen
one highlighted. The bars run from the lowest value (empty bar) to the highest
(full bar), so the chart shows the agent's preference, and the numbers beside
the bars show how large it is. Watch how the bars shift as the situation
changes, for example when the snake nears a wall, and compare an early
checkpoint with a late one. One frame (the board's rows shortened)::

    ┌─ Enter or Esc: quit ───────────┐  checkpoint  ep_0500
    │                                │  episode     1 of 1
    │                                │  turn        57
    │        ^                       │  reward      +100
    │                                │
    │                                │  Q(s, a) for each action
    │                       @        │  ▶ KEY_RIGHT ████████████    +12.31
    │                                │    KEY_UP    █████▋           +4.02
    └────────────────────────────────┘    KEY_LEFT                   -3.20
    apple_dx: 0.46875                     KEY_DOWN  ██▉              +0.50
    apple_dy: 0.6875                      no-op     █▎               -1.57
    energy: 144
    reward: -6
    score: 100

When the game ends, "game over: score 150" appears in the blank line of the
panel, or in the board's bottom border when the terminal has no room for the
panel; a game stopped at ``max_turns_per_episode`` says "turn limit: score
150" instead.

The turn loop runs at the game's own framerate: observe, score, draw, wait out
the rest of the turn while listening for Enter or Escape, then act. When a game
ends, its last frame stays on screen: until Enter or Escape after the last
game, for a moment between games. With an egocentric view, ``o`` outlines the
window the network sees (``agent_view``); ``--record`` keeps the whole show as
an asciicast file (``recording``).
"""

import time
from dataclasses import dataclass

import numpy as np

from retro_gamer.game.environment import Environment, top_agent
from retro_gamer.errors import ConfigError, TerminalTooSmall
from retro_gamer.show.agent_view import (
    OUTLINE_KEYS, border_hint, draw_window_outline, input_panel_lines, view_window)
from retro_gamer.show.evaluate import seed_game
from retro_gamer.show.policy import load_policy
from retro_gamer.show.terminal import REVERSE_VIDEO, Canvas, Painter, Screen, color_codes, style_of

NO_OP_LABEL = "no-op"
PANEL_GAP = 2  # columns between the board's border and the panel
BAR_WIDTH = 12
BAR_EIGHTHS = " ▏▎▍▌▋▊▉"  # a partial cell: 0/8 to 7/8 of a full block
FULL_BLOCK = "█"
CHOSEN_MARKER = "▶"
QUIT_HINT = "Enter or Esc: quit"
PAUSE_BETWEEN_GAMES = 2.0  # seconds the final frame of a game stays before the next game
QUIT_KEYS = ("enter", "escape", "closed")  # "closed": the terminal window is gone


def command_play(run_dir, checkpoint=None, framerate=None, episodes=1, seed=None):
    """``retro-gamer play``: watch the policy of a checkpoint play ``episodes`` games.

    Returns the exit code, 0. Ctrl-C raises KeyboardInterrupt once the terminal
    is restored; the command line turns it into exit code 130.
    """
    screen = Screen()
    policy = load_policy(run_dir, checkpoint)
    environment = Environment(policy.source.factory, policy.actions, policy.reward_key)
    watch(policy, environment, screen, framerate, episodes, policy.max_turns, seed)
    return 0


def watch(policy, environment, screen, framerate=None, episodes=1, max_turns=None, seed=None,
          first_game=0):
    """Let ``policy`` play ``episodes`` games of ``environment`` on ``screen``.

    ``policy`` is anything with ``actions``, ``checkpoint_name``, ``reward_key``,
    ``observer``, ``q_values(board_codes, state_values)`` and
    ``greedy_action(board_codes, state_values)``; ``framerate`` (turns per
    second) overrides the game's own; ``max_turns`` ends a game that runs too
    long, as in training. The terminal must fit the board before the screen
    changes at all (TerminalTooSmall otherwise). With a ``seed``, game i is
    the game i that ``retro-gamer evaluate --seed`` plays, so two checkpoints
    can be watched on the same game; ``first_game`` starts at evaluate's
    game ``first_game`` instead of game 0.

    A screen may bring its own ``clock()`` (seconds): a recording made without
    a terminal does, so its turns take no real time.
    """
    if framerate is not None and framerate <= 0:
        raise ConfigError(f"--framerate must be a positive number of turns per second, not {framerate}.")
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, not {episodes}.")
    start_game(environment, seed, first_game)
    check_terminal_size(screen.size(), environment.game.board_size, len(state_lines(environment.game)))
    watcher = Watcher(screen, action_labels(policy.actions), policy.checkpoint_name, episodes,
                      policy.observer)
    with screen:
        for episode in range(1, episodes + 1):
            if episode > 1:
                start_game(environment, seed, first_game + episode - 1)
            seconds_per_turn = 1 / (framerate or environment.game.framerate)
            readout = play_episode(policy, environment, watcher, episode, seconds_per_turn, max_turns)
            if readout is None:
                return
            last_game = episode == episodes
            readout.status = end_of_game_status(environment.game, policy.reward_key, readout.turn, max_turns)
            watcher.show(environment.game, environment.board_characters, readout)
            if wait_for_quit(screen, None if last_game else PAUSE_BETWEEN_GAMES, watcher.handle_key):
                return


def start_game(environment, seed, game_index):
    """A new game; seeded like evaluate's game ``game_index`` when a seed is given."""
    if seed is not None:
        seed_game(seed, game_index)
    environment.reset()


@dataclass
class Readout:
    """What the panel tells about the agent at one moment of a game."""

    episode: int
    turn: int
    episode_reward: float
    q_values: np.ndarray
    chosen_action: int
    status: str = ""


def play_episode(policy, environment, watcher, episode, seconds_per_turn, max_turns):
    """Play one game with the greedy policy; the last Readout, or None if the user quit."""
    policy.observer.start_episode(environment.game)
    turn = 0
    episode_reward = 0.0
    clock = screen_clock(watcher.screen)
    while True:
        turn_started = clock()
        board_codes, state_values = policy.observer.encode(environment.game, environment.drawn_cells)
        q_values = policy.q_values(board_codes, state_values)
        chosen_action = policy.greedy_action(board_codes, state_values)
        readout = Readout(episode, turn, episode_reward, q_values, chosen_action)
        watcher.show(environment.game, environment.board_characters, readout)
        time_left = seconds_per_turn - (clock() - turn_started)
        if wait_for_quit(watcher.screen, max(0.0, time_left), watcher.handle_key):
            return None
        reward, done = environment.step(chosen_action)
        turn += 1
        readout.turn = turn
        readout.episode_reward = episode_reward = episode_reward + reward
        if done or (max_turns is not None and turn >= max_turns):
            return readout


def screen_clock(screen):
    """The screen's clock (seconds) if it has one, else the real one."""
    return getattr(screen, "clock", time.monotonic)


def wait_for_quit(screen, seconds, on_key=None):
    """Listen for keys for ``seconds`` (None: until Enter or Escape); True if one came.

    Any other key is handed to ``on_key`` (the outline key, for instance).
    """
    clock = screen_clock(screen)
    deadline = None if seconds is None else clock() + seconds
    while True:
        time_left = None if deadline is None else max(0.0, deadline - clock())
        key = screen.read_key(time_left)
        if key in QUIT_KEYS:
            return True
        if key is not None and on_key is not None:
            on_key(key)
        if key is None and deadline is not None and clock() >= deadline:
            return False


def end_of_game_status(game, reward_key, turns, max_turns):
    """The words shown under the board once a game is over."""
    if game.playing and max_turns is not None and turns >= max_turns:
        return f"turn limit: {reward_key} {game.state.get(reward_key)}"
    return f"game over: {reward_key} {game.state.get(reward_key)}"


# --- What goes on the screen --------------------------------------------------


def action_labels(actions):
    """One label per network output: the game's actions, then the no-op (always last)."""
    return [*actions, NO_OP_LABEL]


def state_lines(game):
    """The game's state as retro-games shows it under the board: "key: value" lines.

    ``game.show_state`` True shows every key in sorted order, a list shows those
    keys, and anything false shows nothing.
    """
    if game.show_state is True:
        keys = sorted(game.state.keys())
    elif game.show_state:
        keys = [key for key in game.show_state if key in game.state]
    else:
        keys = []
    return [f"{key}: {game.state[key]}" for key in keys]


def check_terminal_size(terminal_size, board_size, state_line_count):
    """Raise TerminalTooSmall unless the board, its border and the state lines fit."""
    columns, lines = terminal_size
    box_width, box_height = board_size[0] + 2, board_size[1] + 2
    if columns >= box_width and lines >= box_height + state_line_count:
        return
    needed = f"{box_width}x{box_height}"
    if state_line_count:
        lines_word = "line" if state_line_count == 1 else "lines"
        needed += f" plus {state_line_count} {lines_word} for the game state"
    raise TerminalTooSmall(
        f"TerminalTooSmall: the terminal is {columns}x{lines} but the board needs {needed}: "
        "enlarge the window and try again."
    )


def q_value_bar(q_value, lowest, highest, width=BAR_WIDTH):
    """A bar ``width`` cells wide, empty at ``lowest`` and full at ``highest``.

    Cells are split in eighths (▏▎▍▌▋▊▉█), so small differences still show.
    All values equal: every bar is full. A value that is not a number: no bar.
    """
    if not np.isfinite(q_value):
        return " " * width
    spread = highest - lowest
    fraction = 1.0 if spread <= 0 else (q_value - lowest) / spread
    eighths = round(fraction * width * 8)
    full_cells, partial_eighths = divmod(eighths, 8)
    bar = FULL_BLOCK * full_cells
    if partial_eighths:
        bar += BAR_EIGHTHS[partial_eighths]
    return bar.ljust(width)


def q_value_lines(labels, q_values, chosen_action):
    """(text, style) lines of the bar chart; the chosen action marked and in reverse video."""
    finite_values = q_values[np.isfinite(q_values)]
    lowest = float(finite_values.min()) if finite_values.size else 0.0
    highest = float(finite_values.max()) if finite_values.size else 0.0
    label_width = max(len(label) for label in labels)
    lines = []
    for action, (label, q_value) in enumerate(zip(labels, q_values)):
        chosen = action == chosen_action
        marker = CHOSEN_MARKER if chosen else " "
        bar = q_value_bar(float(q_value), lowest, highest)
        text = f"{marker} {label:<{label_width}} {bar} {float(q_value):+9.2f}"
        lines.append((text, REVERSE_VIDEO if chosen else ""))
    return lines


def panel_lines(labels, checkpoint_name, episodes, readout):
    """(text, style) lines of the panel beside the board; the status line is blank during a game."""
    lines = [
        (f"checkpoint  {checkpoint_name}", ""),
        (f"episode     {readout.episode} of {episodes}", ""),
        (f"turn        {readout.turn}", ""),
        (f"reward      {readout.episode_reward:+g}", ""),
        (readout.status, ""),
        ("Q(s, a) for each action", ""),
    ]
    return lines + q_value_lines(labels, readout.q_values, readout.chosen_action)


def border_line(left_corner, width, right_corner, label):
    """A horizontal border ``width`` cells wide inside its corners, with a label set in it."""
    inside = f"─ {label} " if label else ""
    return left_corner + inside[:width].ljust(width, "─") + right_corner


def draw_board(canvas, left, top, game, board_characters, truecolor, top_label, bottom_label):
    """Draw the board in a box with its top-left corner at (left, top).

    Each cell shows the character of its top agent (``top_agent``: the largest
    ``z``, as the environment's view draws it), in that agent's colour; what
    the agent's colour leaves out, and the empty cells, take the game's own
    colour (``game.color``).
    """
    board_width, board_height = game.board_size
    canvas.put(left, top, border_line("┌", board_width, "┐", top_label))
    for y in range(board_height):
        canvas.put(left, top + 1 + y, "│")
        canvas.put(left + board_width + 1, top + 1 + y, "│")
    canvas.put(left, top + board_height + 1, border_line("└", board_width, "┘", bottom_label))
    game_foreground, game_background = color_codes(game.color, truecolor)
    agents_by_position = game.get_agents_by_position()
    for y, row in enumerate(board_characters):
        for x, character in enumerate(row):
            foreground, background = None, None
            agents_here = agents_by_position.get((x, y))
            if agents_here:
                highest = top_agent(agents_here)
                foreground, background = color_codes(getattr(highest, "color", None), truecolor)
            style = style_of(foreground or game_foreground, background or game_background)
            canvas.put(left + 1 + x, top + 1 + y, character, style)


@dataclass
class Layout:
    """Where things go on a terminal of a given size; ``panel_left`` None: no panel."""

    board_left: int
    board_top: int
    panel_left: int | None


def plan_layout(terminal_size, board_size, state_line_count, panel_size):
    """Centre the board (and the panel beside it, if it fits) on the terminal.

    A terminal too narrow or too short for the panel drops the panel, never the game.
    """
    columns, lines = terminal_size
    box_width, box_height = board_size[0] + 2, board_size[1] + 2
    panel_width, panel_height = panel_size
    game_height = box_height + state_line_count
    width_with_panel = box_width + PANEL_GAP + panel_width
    panel_fits = columns >= width_with_panel and lines >= panel_height
    used_width = width_with_panel if panel_fits else box_width
    used_height = max(game_height, panel_height) if panel_fits else game_height
    board_left = max(0, (columns - used_width) // 2)
    board_top = max(0, (lines - used_height) // 2)
    panel_left = board_left + box_width + PANEL_GAP if panel_fits else None
    return Layout(board_left, board_top, panel_left)


class Watcher:
    """Draws frames of a game on the screen: board, game state, and the agent's panel.

    Each frame is drawn whole into a Canvas; the Painter writes only what changed
    since the last one, so nothing flickers. Given the policy's ``observer``,
    the panel also names the network's inputs, and the outline key shows its
    window on the board (see ``agent_view``).
    """

    def __init__(self, screen, labels, checkpoint_name, episodes, observer=None):
        self.screen = screen
        self.labels = labels
        self.checkpoint_name = checkpoint_name
        self.episodes = episodes
        self.painter = Painter(use_color=screen.use_color)
        self.observer = observer
        self.outline_shown = False
        self.last_frame = None

    def handle_key(self, key):
        """A key that does not quit: the outline key shows or hides the network's window at once."""
        if key in OUTLINE_KEYS and view_window(self.observer) is not None and self.last_frame:
            self.outline_shown = not self.outline_shown
            self.show(*self.last_frame)

    def show(self, game, board_characters, readout):
        """Draw one frame: the board as it is now and what the agent thinks of it."""
        self.last_frame = (game, board_characters, readout)
        if self.screen.needs_full_redraw:  # back from Ctrl-Z: the screen was cleared
            self.painter.forget()
            self.screen.needs_full_redraw = False
        terminal_size = self.screen.size()
        game_lines = state_lines(game)
        panel = panel_lines(self.labels, self.checkpoint_name, self.episodes, readout)
        chart_width = max(len(text) for text, _ in panel)
        panel += input_panel_lines(self.observer, self.outline_shown, chart_width)
        panel_size = (max(len(text) for text, _ in panel), len(panel))
        layout = plan_layout(terminal_size, game.board_size, len(game_lines), panel_size)
        canvas = Canvas(*terminal_size)
        # The status ("game over: ...") goes in the panel; without a panel, in the bottom border.
        border_status = readout.status if layout.panel_left is None else ""
        window = view_window(self.observer)
        hint = border_hint(QUIT_HINT, game.board_size[0], window is not None)
        draw_board(canvas, layout.board_left, layout.board_top, game, board_characters,
                   self.screen.truecolor, hint, border_status)
        if self.outline_shown and window is not None:
            draw_window_outline(canvas, layout.board_left, layout.board_top, game.board_size,
                                board_characters, window)
        board_height = game.board_size[1]
        for index, line in enumerate(game_lines):
            row = layout.board_top + board_height + 2 + index
            beside_panel = layout.panel_left is not None and row < layout.board_top + len(panel)
            room = (layout.panel_left - 1 if beside_panel else terminal_size[0]) - layout.board_left
            canvas.put(layout.board_left, row, line[:room])
        if layout.panel_left is not None:
            for index, (text, style) in enumerate(panel):
                canvas.put(layout.panel_left, layout.board_top + index, text, style)
        self.screen.write(self.painter.paint(canvas))
