"""The terminal as a screen: how do you draw a game with nothing but text?

A terminal is a grid of character cells. A program draws on it by writing
ordinary text mixed with *escape sequences*: short strings that start with
ESC (``"\\x1b"``) and that the terminal obeys instead of printing. This module
uses only these::

    ESC[?1049h  ESC[?1049l   enter / leave the alternate screen (the shell's
                             text and scrollback come back untouched)
    ESC[?25l    ESC[?25h     hide / show the cursor
    ESC[2J                   clear the screen
    ESC[{row};{column}H      move the cursor (counted from 1, row first)
    ESC[{p1};{p2};...m       "Select Graphic Rendition" (SGR): colours, reverse
                             video. 0 resets; 30-37 / 40-47 are the eight basic
                             foreground / background colours, 90-97 / 100-107
                             their bright versions, 38;5;N / 48;5;N one of 256
                             colours, 38;2;R;G;B / 48;2;R;G;B any RGB colour.

Keys come the other way. Normally the terminal hands a program a whole line
only after Enter, and echoes what is typed. ``tty.setcbreak`` turns both off,
so each key arrives the moment it is pressed, but leaves signals on, so Ctrl-C
still interrupts (``tty.setraw`` would swallow it). ``select`` with a timeout
tells whether a key is waiting without blocking. Enter arrives as ``"\\r"`` or
``"\\n"``; Escape arrives as a lone ESC, while an arrow key arrives as ESC
followed at once by ``[`` and a letter: a lone ESC is one that no other byte
follows within a few milliseconds.

Redrawing the whole screen on every frame makes it flicker. So a frame is drawn
into a ``Canvas`` (a grid of cells in memory), and a ``Painter`` compares it
with the previous frame and writes only the cells that changed.

Whatever happens (a normal end, an error, Ctrl-C, SIGTERM), ``Screen`` gives
the terminal back as it found it: main screen, visible cursor, echo and line
mode. Ctrl-Z (SIGTSTP) gives it back too before the program stops, and takes
it again when the shell's ``fg`` continues the program; the next frame is
then drawn whole, since the screen was the shell's in between.
"""

import errno
import os
import select
import signal
import sys
import termios
import tty

from retro_gamer.errors import RetroGamerError

ESC = "\x1b"
ENTER_ALTERNATE_SCREEN = ESC + "[?1049h"
LEAVE_ALTERNATE_SCREEN = ESC + "[?1049l"
HIDE_CURSOR = ESC + "[?25l"
SHOW_CURSOR = ESC + "[?25h"
CLEAR_SCREEN = ESC + "[2J"
RESET_STYLE = ESC + "[0m"
REVERSE_VIDEO = "7"

ENTER_BYTES = (b"\r", b"\n")
ESCAPE_BYTE = b"\x1b"
ESCAPE_SEQUENCE_WAIT = 0.03  # seconds: the rest of an arrow key's sequence comes sooner
LONGEST_ESCAPE_SEQUENCE = 16

# --- Colours -------------------------------------------------------------

# retro-games names colours like the `blessed` library does: "red",
# "bright_red", "on_black" (background only), "red_on_black", and X11 names
# such as "skyblue1". The eight basic names are SGR 30 + i (foreground) and
# 40 + i (background); "bright_" adds 60.
BASIC_COLORS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")

# A few X11 colour names that games use, as (red, green, blue).
# Any other name is shown in the terminal's default colour.
NAMED_COLORS = {
    "skyblue": (135, 206, 235),
    "skyblue1": (135, 206, 255),
    "deepskyblue1": (0, 191, 255),
    "deepskyblue2": (0, 178, 238),
    "deepskyblue3": (0, 154, 205),
    "deepskyblue4": (0, 104, 139),
    "navy": (0, 0, 128),
    "crimson": (220, 20, 60),
    "orangered": (255, 69, 0),
    "orange": (255, 165, 0),
    "gold": (255, 215, 0),
    "green4": (0, 139, 0),
    "darkgreen": (0, 100, 0),
    "purple": (160, 32, 240),
    "pink": (255, 192, 203),
    "brown": (165, 42, 42),
    "gray": (190, 190, 190),
    "grey": (190, 190, 190),
}

# The 256-colour palette holds a 6x6x6 colour cube at 16 + 36*r + 6*g + b,
# where r, g, b count steps through these channel levels.
CUBE_LEVELS = (0, 95, 135, 175, 215, 255)


def nearest_cube_step(channel):
    """The step (0-5) of the colour cube level closest to a 0-255 channel value."""
    distances = [abs(level - channel) for level in CUBE_LEVELS]
    return distances.index(min(distances))


def rgb_to_256(rgb):
    """The 256-colour palette index closest to an (r, g, b) colour."""
    red, green, blue = (nearest_cube_step(channel) for channel in rgb)
    return 16 + 36 * red + 6 * green + blue


def single_color_code(name, layer, truecolor=False):
    """SGR parameters for one colour name, or None if the name is unknown.

    ``layer`` is 30 for the foreground and 40 for the background.
    """
    if name in BASIC_COLORS:
        return str(layer + BASIC_COLORS.index(name))
    bright_name = name.removeprefix("bright_")
    if bright_name != name and bright_name in BASIC_COLORS:
        return str(layer + 60 + BASIC_COLORS.index(bright_name))
    if name in NAMED_COLORS:
        extended = layer + 8  # 38 sets an extended foreground, 48 a background
        red, green, blue = NAMED_COLORS[name]
        if truecolor:
            return f"{extended};2;{red};{green};{blue}"
        return f"{extended};5;{rgb_to_256(NAMED_COLORS[name])}"
    return None


def color_codes(color_name, truecolor=False):
    """(foreground, background) SGR parameters for a retro-games colour name.

    "red_on_black" gives ("31", "40"), "on_blue" gives (None, "44"), and
    "skyblue1" gives ("38;5;117", None). A part that is missing or unknown is
    None: the terminal's default colour (or whatever lies underneath) shows.
    """
    if not color_name:
        return None, None
    if color_name.startswith("on_"):
        foreground_name, background_name = "", color_name.removeprefix("on_")
    elif "_on_" in color_name:
        foreground_name, background_name = color_name.split("_on_", 1)
    else:
        foreground_name, background_name = color_name, ""
    foreground = single_color_code(foreground_name, 30, truecolor) if foreground_name else None
    background = single_color_code(background_name, 40, truecolor) if background_name else None
    return foreground, background


def style_of(*sgr_parameters):
    """Join SGR parameters into one style string, skipping the ones that are None."""
    return ";".join(parameter for parameter in sgr_parameters if parameter)


def color_enabled(output_file, environment):
    """Whether to colour the output: only on a terminal, and not when the user said no.

    https://no-color.org: a non-empty NO_COLOR turns colour off; TERM=dumb
    means the terminal understands no escape sequences for colour.
    """
    if environment.get("NO_COLOR"):
        return False
    if environment.get("TERM") == "dumb":
        return False
    return output_file.isatty()


def truecolor_supported(environment):
    """Whether the terminal announces 24-bit colour (COLORTERM=truecolor or 24bit)."""
    return environment.get("COLORTERM") in ("truecolor", "24bit")


# --- Frames --------------------------------------------------------------

BLANK_CELL = (" ", "")


def move_to(column, row):
    """The escape sequence that moves the cursor to a 0-based (column, row)."""
    return f"{ESC}[{row + 1};{column + 1}H"


def set_style(style):
    """The escape sequence that switches to a style (SGR parameters, "" = default)."""
    if style:
        return f"{ESC}[0;{style}m"
    return RESET_STYLE


class Canvas:
    """One frame in memory: ``cells[row][column]`` is a (character, style) pair.

    ``style`` is a string of SGR parameters ("31;40" is red on black, "" the
    terminal's default). Text that runs past an edge is cut off.
    """

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.cells = [[BLANK_CELL] * width for _ in range(height)]

    def put(self, column, row, text, style=""):
        """Write ``text`` from (column, row) to the right, one character a cell."""
        if not 0 <= row < self.height:
            return
        for offset, character in enumerate(text):
            if 0 <= column + offset < self.width:
                self.cells[row][column + offset] = (character, style)


class Painter:
    """Turns frames into the escape sequences that change the previous frame into them.

    The first frame (and the first after a change of size) clears the screen;
    after that only cells whose character or style changed are written, each
    run of changed cells in a row after one cursor move. An identical frame
    writes nothing. With ``use_color`` off every style is ignored.
    """

    def __init__(self, use_color=True):
        self.use_color = use_color
        self.previous_cells = None
        self.previous_size = None

    def forget(self):
        """Forget the last frame (the screen was cleared): the next paint draws everything."""
        self.previous_cells = None
        self.previous_size = None

    def visible_cell(self, cell):
        """The cell as it will look: without its style when colour is off."""
        character, style = cell
        return (character, style if self.use_color else "")

    def paint(self, canvas):
        """The text to write to the terminal to show ``canvas``."""
        pieces = []
        previous_cells = self.previous_cells
        if self.previous_size != (canvas.width, canvas.height):
            pieces.append(RESET_STYLE + CLEAR_SCREEN)
            previous_cells = Canvas(canvas.width, canvas.height).cells
        current_style = ""
        for row in range(canvas.height):
            cursor_column = None  # where the cursor is in this row, if we know
            for column in range(canvas.width):
                cell = self.visible_cell(canvas.cells[row][column])
                if cell == previous_cells[row][column]:
                    continue
                character, style = cell
                if cursor_column != column:
                    pieces.append(move_to(column, row))
                if style != current_style:
                    pieces.append(set_style(style))
                    current_style = style
                pieces.append(character)
                cursor_column = column + 1
        if current_style:
            pieces.append(RESET_STYLE)
        self.previous_cells = [[self.visible_cell(cell) for cell in row] for row in canvas.cells]
        self.previous_size = (canvas.width, canvas.height)
        return "".join(pieces)


# --- The screen ----------------------------------------------------------


def exit_on_sigterm(signal_number, frame):
    """SIGTERM handler: leave through Python's normal exit, so every `finally` runs."""
    raise SystemExit(128 + signal_number)


class Screen:
    """The terminal while a game is shown on it.

    ``with Screen() as screen:`` switches to the alternate screen, hides the
    cursor and reads keys one at a time without echo; leaving the block, by
    any road, puts everything back. ``size()`` works outside the block too,
    so a caller can check that its picture fits before the screen changes.
    """

    def __init__(self, input_file=None, output_file=None, environment=None):
        self.input_file = input_file or sys.stdin
        self.output_file = output_file or sys.stdout
        if not (self.input_file.isatty() and self.output_file.isatty()):
            raise RetroGamerError(
                "play needs an interactive terminal: run it in a terminal window, "
                "without redirecting its input or output."
            )
        environment = os.environ if environment is None else environment
        self.input_fd = self.input_file.fileno()
        self.output_fd = self.output_file.fileno()
        self.use_color = color_enabled(self.output_file, environment)
        self.truecolor = truecolor_supported(environment)
        self.saved_modes = None
        self.saved_sigterm_handler = None
        self.saved_sigtstp_handler = None
        self.needs_full_redraw = False

    def size(self):
        """The terminal's (columns, lines)."""
        columns, lines = os.get_terminal_size(self.output_fd)
        return columns, lines

    def __enter__(self):
        self.saved_modes = termios.tcgetattr(self.input_fd)
        self.saved_sigterm_handler = signal.signal(signal.SIGTERM, exit_on_sigterm)
        self.saved_sigtstp_handler = signal.signal(signal.SIGTSTP, self.suspend)
        try:
            self.take_over()
        except BaseException:
            self.restore()
            raise
        return self

    def __exit__(self, exception_type, exception, traceback):
        self.restore()
        return False

    def take_over(self):
        """Keys one at a time without echo; the alternate screen, cleared; no cursor."""
        tty.setcbreak(self.input_fd)
        self.write(ENTER_ALTERNATE_SCREEN + HIDE_CURSOR + CLEAR_SCREEN)

    def give_back(self):
        """Default style, cursor, main screen, and the modes the terminal had.

        A terminal that is gone (its window closed) answers EIO: there is
        nothing left to give back, and that is not an error.
        """
        try:
            self.write(RESET_STYLE + SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN)
        except OSError as error:
            if error.errno != errno.EIO:
                raise
        try:
            termios.tcsetattr(self.input_fd, termios.TCSADRAIN, self.saved_modes)
        except termios.error as error:
            if error.args[0] != errno.EIO:
                raise

    def restore(self):
        """Give the terminal back and put the signal handlers back as they were."""
        try:
            self.give_back()
        finally:
            signal.signal(signal.SIGTERM, self.saved_sigterm_handler)
            signal.signal(signal.SIGTSTP, self.saved_sigtstp_handler)

    def suspend(self, signal_number, frame):
        """SIGTSTP (Ctrl-Z): give the terminal back, stop, and take it again on ``fg``.

        The program stops by sending itself SIGTSTP again with the default
        action; ``os.kill`` returns only once the shell continues it (SIGCONT).
        """
        self.give_back()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        signal.signal(signal.SIGTSTP, self.suspend)
        self.take_over()
        self.needs_full_redraw = True

    def write(self, text):
        """Send text (escape sequences included) to the terminal, all of it, now."""
        data = text.encode("utf-8")
        while data:
            written = os.write(self.output_fd, data)
            data = data[written:]

    def key_waiting(self, timeout):
        """Whether a byte can be read within ``timeout`` seconds (None: wait for ever)."""
        readable, _, _ = select.select([self.input_fd], [], [], timeout)
        return bool(readable)

    def read_key(self, timeout=0):
        """The next key pressed within ``timeout`` seconds, or None.

        Returns "enter", "escape", or the key's own text: a character such as
        "q", or an escape sequence such as "\\x1b[A" (the up arrow); "closed"
        when the terminal is gone (its window was closed).
        """
        if not self.key_waiting(timeout):
            return None
        first = self.read_byte()
        if first == b"":
            return "closed"
        if first in ENTER_BYTES:
            return "enter"
        if first != ESCAPE_BYTE:
            return first.decode("utf-8", errors="replace")
        if not self.key_waiting(ESCAPE_SEQUENCE_WAIT):
            return "escape"
        return self.read_escape_sequence(first).decode("utf-8", errors="replace")

    def read_byte(self):
        """One byte of input; b"" when the terminal is gone.

        A closed pseudo-terminal reads as end of file or fails with EIO; either
        way no key will ever come, and waiting for one would spin for ever.
        """
        try:
            return os.read(self.input_fd, 1)
        except OSError:
            return b""

    def read_escape_sequence(self, sequence):
        """The rest of a sequence that began with ESC.

        ESC [ (CSI) and ESC O (SS3) sequences end with a byte from @ to ~;
        anything else (Alt + a key) is two bytes long.
        """
        sequence += os.read(self.input_fd, 1)
        if sequence[1:2] not in (b"[", b"O"):
            return sequence
        while len(sequence) < LONGEST_ESCAPE_SEQUENCE and self.key_waiting(ESCAPE_SEQUENCE_WAIT):
            sequence += os.read(self.input_fd, 1)
            if 0x40 <= sequence[-1] <= 0x7E:
                break
        return sequence
