"""The agent's-eye view: which cells did the network see when it chose?

With ``egocentric = true`` the network does not see the board you watch. It
sees the ``(2r + 1) x (2r + 1)`` cells around the player (see
``game/observation.py``): each cell turned into one of a few *channels*, the
characters of ``character_set`` and, for cells past the board's edge, the
``edge`` channel. The play screen shows the whole board, so nothing there
says which patch the decision came from.

Press ``o`` during ``play`` and the window is outlined on the board::

    ┌─────┐          ┌─────┐
    │     │          │     │
    │ o   │          │ o   │
    │     │   o -->  │     │
    │     │          │╭╌╌╌╮│
    │     │          │╎   ╎│
    │  =  │          │╎ = ╎│
    └─────┘          └─━━━─┘

The outline runs through the cells just outside the window, drawn only on
empty cells, so no agent is hidden. Where the window reaches past the board,
the border under it turns heavy (``━ ┃``): those are the cells the network
sees as ``edge``, the wall it would hit. Press ``o`` again and the outline
goes. A network that sees the whole board has no window: the key changes
nothing.

Under the Q-values, the panel names the network's inputs: the window (or the
whole board), the channels in code order, and the observed state keys.
"""

import textwrap

OUTLINE_KEYS = ("o", "O")
OUTLINE_STYLE = "93"  # bright yellow; with colour off, the characters alone show it
RING_CORNERS = {(False, False): "╭", (True, False): "╮", (False, True): "╰", (True, True): "╯"}
RING_HORIZONTAL = "╌"
RING_VERTICAL = "╎"
HEAVY_BORDER = {"─": "━", "│": "┃", "┌": "┏", "┐": "┓", "└": "┗", "┘": "┛"}
QUIT_HINTS_WITH_OUTLINE = ("Enter or Esc: quit, o: outline", "Enter/Esc: quit, o: outline")


def view_window(observer):
    """``(left, top, side)`` of the network's window in board cells, or None.

    None for a network that sees the whole board (or no board), and before
    the first turn of a game has been observed. ``left`` and ``top`` may be
    negative: the window reaches past the board's edge.
    """
    if not getattr(observer, "egocentric", False):
        return None
    position = getattr(observer, "player_position", None)
    if position is None:
        return None
    x, y = position
    radius = observer.radius
    return x - radius, y - radius, 2 * radius + 1


def border_hint(quit_hint, board_width, has_window):
    """The top border's words: the quit keys, and the outline key when it does something and fits."""
    if has_window:
        for hint in QUIT_HINTS_WITH_OUTLINE:
            if len(hint) + 3 <= board_width:  # "─ " before the words, " " after
                return hint
    return quit_hint


def ring_character(column, row, left, top, right, bottom):
    """The outline's character at board cell (column, row) of the ring around the window."""
    on_side = column in (left, right)
    on_end = row in (top, bottom)
    if on_side and on_end:
        return RING_CORNERS[(column == right, row == bottom)]
    return RING_HORIZONTAL if on_end else RING_VERTICAL


def draw_window_outline(canvas, board_left, board_top, board_size, board_characters, window):
    """Outline ``window`` on a board drawn with its box's top-left corner at (board_left, board_top).

    Board cell (x, y) is canvas cell (board_left + 1 + x, board_top + 1 + y).
    The ring of cells just outside the window gets the outline where it is on
    the board and empty; the window's cells that lie on the box (past the
    board's edge) get the heavy version of the border's line.
    """
    left, top, side = window
    width, height = board_size
    ring_left, ring_top, ring_right, ring_bottom = left - 1, top - 1, left + side, top + side
    for y in range(ring_top, ring_bottom + 1):
        for x in range(ring_left, ring_right + 1):
            column, row = board_left + 1 + x, board_top + 1 + y
            on_board = 0 <= x < width and 0 <= y < height
            on_ring = x in (ring_left, ring_right) or y in (ring_top, ring_bottom)
            if on_ring:
                if on_board and board_characters[y][x] == " ":
                    character = ring_character(x, y, ring_left, ring_top, ring_right, ring_bottom)
                    canvas.put(column, row, character, OUTLINE_STYLE)
            elif not on_board and -1 <= x <= width and -1 <= y <= height:
                if 0 <= row < canvas.height and 0 <= column < canvas.width:
                    character, _ = canvas.cells[row][column]
                    if character in HEAVY_BORDER:
                        canvas.put(column, row, HEAVY_BORDER[character], OUTLINE_STYLE)


def input_lines(observer, outline_shown):
    """Lines naming what the network is fed: the board part, its channels, the state keys.

    Nothing for an observer that does not describe itself (a stand-in).
    """
    if not hasattr(observer, "character_set"):
        return []
    egocentric = getattr(observer, "egocentric", False)
    if not observer.board:
        what = "no board"
    elif egocentric:
        side = 2 * observer.radius + 1
        what = f"{side}x{side} cells around {observer.egocentric_player}"
    else:
        what = f"the whole {observer.board_width}x{observer.board_height} board"
    lines = [f"network input: {what}"]
    if observer.board:
        channels = [*observer.character_set, *(["edge"] if egocentric else [])]
        lines.append("  channels: " + (" ".join(channels) if channels else "none (empty or not)"))
    if observer.observe_state:
        lines.append("  state: " + " ".join(observer.observe_state))
    if egocentric:
        lines.append(f"  o: {'hide the outline' if outline_shown else 'outline the window'}")
    return lines


def input_panel_lines(observer, outline_shown, width):
    """``input_lines`` as (text, style) panel lines after a blank one, wrapped to ``width`` columns."""
    lines = input_lines(observer, outline_shown)
    if not lines:
        return []
    wrapped = [("", "")]
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        for piece in textwrap.wrap(line, max(width, 12), subsequent_indent=indent,
                                   drop_whitespace=True, break_on_hyphens=False) or [""]:
            wrapped.append((piece, ""))
    return wrapped
