"""What exactly does the agent see?

Each turn the game shows a board of characters (``board_characters[y][x]``,
``' '`` where empty) and keeps a ``state`` dictionary. The agent's network
needs numbers of a fixed shape, so an ``Observer`` turns one turn into:

* ``board_codes``: a ``uint8`` array ``(height, width)`` with one small
  integer code per cell::

      code 0                  empty cell, or a character not in character_set
      code i + 1              character_set[i]
      code len(character_set) + 1
                              "edge": a cell beyond the board (egocentric only)

  The network later expands each code ``c`` into a one-hot vector of
  ``num_codes`` channels (a 1 in channel ``c - 1``, all zeros for code 0),
  so a board becomes ``num_codes * height * width`` inputs.

* ``state_values``: a ``float32`` vector of the ``observe_state`` values read
  from ``game.state``, in order. A key may hold a number (1 value) or a
  fixed-length list of numbers (that many values).

Looking characters up without a loop. A Python loop over every cell costs
more than the game's whole turn, so the rows are joined into one string and
``str.translate`` (a loop in C) replaces every character by the character
whose number is its code::

      codes_by_code_point[ord(character)] = code   (a defaultdict: 0 if absent)
      "".join(rows).translate(codes_by_code_point)  ->  "\\x00\\x00\\x03\\x01..."

Every code is below 256, so encoding that string as Latin-1 gives exactly one
byte per cell, which numpy reads as the ``uint8`` codes. Any character works,
'█' (code point 9608) or an emoji included: only its code point is looked up.

The egocentric window. With ``egocentric = true`` the agent sees only the
``(2r + 1) x (2r + 1)`` cells around the player at ``(x, y)``: rows
``y - r .. y + r`` and columns ``x - r .. x + r``. A padded board, ``r`` cells
wider on every side and filled with the edge code, makes this a plain slice:
board cell ``(x, y)`` sits at padded ``(x + r, y + r)``, so the window is
``padded[y : y + 2r + 1, x : x + 2r + 1]``. Cells past the board's edge carry
the edge code, never "empty": the agent must see the wall it would hit.
Only the board cells inside the window are looked up and copied in each turn.

The network's input size is fixed when training begins, so the number of
values of every observed key is fixed too: declared in
``observe_state_sizes`` or taken from the first game, and checked at the
start of every episode (and every turn, for free, while reading them).
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from retro_gamer.errors import ObservationError

# The kinds of Python value that count as one number in game.state.
NUMBER_TYPES = (int, float, np.integer, np.floating)
PLAIN_NUMBER_TYPES = {int, float, bool}

# Codes are single bytes: code 0 (empty), the characters, and the edge code.
MAX_CHARACTERS = 254

# The board of an observation without a board (board = false), and the
# state values of one without observed state (shared, so read-only).
NO_BOARD = np.zeros((0, 0), dtype=np.uint8)
NO_BOARD.flags.writeable = False
NO_STATE = np.zeros(0, dtype=np.float32)
NO_STATE.flags.writeable = False


@dataclass(frozen=True)
class ObservationLayout:
    """The shape and meaning of one observation: everything the network's
    input layer, the training log and the play screen need to know.

    board_shape: ``(height, width)`` of ``board_codes``; None when the board is
        not observed.
    channels: the label of each code 1..num_codes: the game's characters in
        character_set order, then ``"edge"`` when the view is egocentric.
    state_keys: ``(key, number of values)`` for each observed state key.
    """

    board_shape: tuple[int, int] | None
    channels: tuple[str, ...]
    state_keys: tuple[tuple[str, int], ...]

    @property
    def num_codes(self) -> int:
        """Number of non-empty codes, which is the number of one-hot channels."""
        return len(self.channels)

    @property
    def state_size(self) -> int:
        """Number of float values read from the game's state each turn."""
        return sum(size for _, size in self.state_keys)

    def describe(self) -> list[str]:
        """Human-readable lines, for the training log and ``info``."""
        if self.board_shape is None:
            lines = ["board: not observed"]
        else:
            height, width = self.board_shape
            lines = [f"board: {height} x {width} cells (height x width)"]
            labels = [
                "edge (beyond the board's edge)" if label == "edge" else repr(label)
                for label in self.channels
            ]
            numbered = ", ".join(f"{code} {label}" for code, label in enumerate(labels, 1))
            lines.append(f"channels: {self.num_codes} (code 0 = empty): {numbered}")
        if not self.state_keys:
            lines.append("state: none observed")
        for key, size in self.state_keys:
            lines.append(f"state: {key} ({size} value{'s' if size != 1 else ''})")
        return lines


class Observer:
    """Turns a game's board and state into ``(board_codes, state_values)``.

    character_set: the characters with codes of their own, in code order.
    board_size: ``(width, height)``, as retro-games gives it.
    observe_state: state keys appended after the board.
    observe_state_sizes: optional ``{key: number of values}``; keys missing here
        take their size from the first game passed to ``start_episode``.
    egocentric, egocentric_player, egocentric_radius: see the module docstring
        (ignored when board is false).
    """

    def __init__(
        self,
        character_set,
        board_size,
        board=True,
        observe_state=(),
        observe_state_sizes=None,
        egocentric=False,
        egocentric_player=None,
        egocentric_radius=2,
    ):
        self.character_set = tuple(character_set)
        self.board_width, self.board_height = board_size
        self.board = board
        self.egocentric = egocentric and board
        self.egocentric_player = egocentric_player
        self.radius = egocentric_radius
        self.observe_state = tuple(observe_state)
        declared = observe_state_sizes or {}
        self.declared_sizes = {key: declared[key] for key in self.observe_state if key in declared}
        self.state_sizes = dict(self.declared_sizes)
        if len(self.character_set) > MAX_CHARACTERS:
            raise ObservationError(
                f"character_set has {len(self.character_set)} characters; at most "
                f"{MAX_CHARACTERS} fit in the one-byte codes. Keep only those the agent needs."
            )
        # Code point -> code; a character not in the set reads as 0 (empty).
        self.codes_by_code_point = defaultdict(
            int, {ord(character): code for code, character in enumerate(self.character_set, 1)}
        )
        self.edge_code = len(self.character_set) + 1
        self.player_position = None
        self.known_layout = None
        if self.egocentric:
            padded_shape = (self.board_height + 2 * self.radius, self.board_width + 2 * self.radius)
            self.padded_board = np.full(padded_shape, self.edge_code, dtype=np.uint8)

    @property
    def layout(self) -> ObservationLayout:
        """The observation's layout (known once every observed key has a size)."""
        if self.known_layout is None:
            self.known_layout = self.make_layout()
        return self.known_layout

    def make_layout(self) -> ObservationLayout:
        """Build the layout from the settings and the sizes of the observed keys."""
        missing = [key for key in self.observe_state if key not in self.state_sizes]
        if missing:
            raise RuntimeError(
                f"the sizes of {missing} are not known yet: call start_episode(game) first"
            )
        if not self.board:
            board_shape, channels = None, ()
        elif self.egocentric:
            side = 2 * self.radius + 1
            board_shape, channels = (side, side), self.character_set + ("edge",)
        else:
            board_shape, channels = (self.board_height, self.board_width), self.character_set
        state_keys = tuple((key, self.state_sizes[key]) for key in self.observe_state)
        return ObservationLayout(board_shape, channels, state_keys)

    def start_episode(self, game) -> None:
        """Check a new game before its first turn is observed.

        Every observed key must be in ``game.state`` and hold numbers; its
        number of values must match the declared size or, when none was
        declared, the first game's (which this call records). With an
        egocentric view, the player must be an agent of the game.
        """
        for key in self.observe_state:
            value = game.state.get(key)
            numbers = numbers_in(value)
            if numbers is None or not numbers:
                raise self.state_error(key, game.state, "at the start of the episode")
            if key not in self.state_sizes:
                self.state_sizes[key] = len(numbers)
            elif len(numbers) != self.state_sizes[key]:
                raise self.state_error(key, game.state, "at the start of the episode")
        if self.egocentric:
            player = game.agents_by_name.get(self.egocentric_player)
            if player is None:
                names = ", ".join(repr(name) for name in game.agents_by_name) or "none"
                raise ObservationError(
                    f"egocentric_player {self.egocentric_player!r} is not an agent in this game "
                    f"(agents with a name: {names}). Set egocentric_player in [preprocessing] "
                    "of config.toml to the name of the agent the view should follow."
                )
            self.player_position = player.position

    def encode(self, game, board_characters) -> tuple[np.ndarray, np.ndarray]:
        """One turn as ``(board_codes, state_values)``.

        board_codes: uint8 ``(height, width)`` (``(0, 0)`` without a board).
        state_values: float32 ``(state_size,)``.
        """
        if not self.board:
            board_codes = NO_BOARD
        elif self.egocentric:
            board_codes = self.encode_window(game, board_characters)
        else:
            board_codes = self.encode_board(board_characters)
        return board_codes, self.read_state(game)

    def encode_board(self, board_characters) -> np.ndarray:
        """Codes of the whole board, shape ``(board_height, board_width)``."""
        row_strings = ["".join(row) for row in board_characters]
        return self.look_up_codes(row_strings, self.board_width)

    def encode_window(self, game, board_characters) -> np.ndarray:
        """Codes of the ``(2r + 1) x (2r + 1)`` cells centred on the player.

        Only the board cells inside the window are looked up. When they fill
        the whole window (the player is at least r cells from every edge) they
        are the answer; otherwise they are copied into the padded board, whose
        padding keeps the edge code, and the window is sliced from it.
        """
        x, y = self.find_player(game)
        radius = self.radius
        top, bottom = max(y - radius, 0), min(y + radius + 1, self.board_height)
        left, right = max(x - radius, 0), min(x + radius + 1, self.board_width)
        row_strings = ["".join(row[left:right]) for row in board_characters[top:bottom]]
        inside_codes = self.look_up_codes(row_strings, right - left)
        if inside_codes.shape == (2 * radius + 1, 2 * radius + 1):
            return inside_codes  # the window lies inside the board: no edge to add
        padded_rows = slice(radius + top, radius + bottom)
        padded_columns = slice(radius + left, radius + right)
        self.padded_board[padded_rows, padded_columns] = inside_codes
        return self.padded_board[y : y + 2 * radius + 1, x : x + 2 * radius + 1].copy()

    def look_up_codes(self, row_strings, width) -> np.ndarray:
        """Codes of equally long rows of characters, shape ``(len(row_strings), width)``."""
        cells = "".join(row_strings)
        if len(cells) != len(row_strings) * width:
            raise ObservationError(
                f"the board has rows of {[len(row) for row in row_strings]} characters where "
                f"{width} were expected: board_size is {self.board_width}x{self.board_height} "
                "and every agent's character must be exactly one character."
            )
        codes = cells.translate(self.codes_by_code_point).encode("latin-1")
        # A view of the bytes (read-only, which is all anyone needs: the
        # replay memory copies it into its own arrays).
        return np.frombuffer(codes, dtype=np.uint8).reshape(len(row_strings), width)

    def find_player(self, game) -> tuple[int, int]:
        """The player's ``(x, y)``; where it was last seen if it has left the game."""
        player = game.agents_by_name.get(self.egocentric_player)
        if player is not None:
            self.player_position = player.position
        if self.player_position is None:
            raise RuntimeError("call start_episode(game) before encode()")
        x, y = self.player_position
        if not (0 <= x < self.board_width and 0 <= y < self.board_height):
            raise ObservationError(
                f"egocentric_player {self.egocentric_player!r} is at {(x, y)}, outside the "
                f"{self.board_width}x{self.board_height} board, so no window can be centred on it."
            )
        return x, y

    def read_state(self, game) -> np.ndarray:
        """The observed state values, in observe_state order, as float32."""
        if not self.observe_state:
            return NO_STATE
        values = []
        for key, size in self.layout.state_keys:
            value = game.state.get(key)
            if size == 1 and type(value) in PLAIN_NUMBER_TYPES:
                values.append(value)  # the common case, checked in one step
                continue
            numbers = numbers_in(value)
            if numbers is None or len(numbers) != size:
                raise self.state_error(key, game.state, f"on turn {game.turn_number}")
            values.extend(numbers)
        return np.array(values, dtype=np.float32)

    def state_error(self, key, state, when) -> ObservationError:
        """Explain what is wrong with one observed key."""
        if key not in state:
            present = ", ".join(repr(name) for name in state) or "none"
            return ObservationError(
                f"observe_state key {key!r} is missing from game.state {when} (the state has: "
                f"{present}). Set game.state[{key!r}] in create_game(), before the game starts; "
                "list values must be assigned after Game(...) is built."
            )
        value = state[key]
        numbers = numbers_in(value)
        if numbers is None or not numbers:
            return ObservationError(
                f"observe_state key {key!r} holds {value!r} {when}, which is not a number or a "
                "non-empty list of numbers. Observed state values must be numbers (or "
                "fixed-length lists of numbers): remove the key from observe_state or "
                "store a number."
            )
        expected = self.state_sizes[key]
        if key in self.declared_sizes:
            source = "observe_state_sizes declares"
        else:
            source = "the first episode had"
        return ObservationError(
            f"observe_state key {key!r} has {len(numbers)} values {when}, but {source} "
            f"{expected}. The network's input size is fixed when training begins: keep "
            f"{key!r} the same length in every episode and every turn."
        )


def numbers_in(value) -> list | None:
    """The numbers in one state value: a number gives ``[value]``, a list or
    tuple of numbers gives its items; anything else (including a missing
    value, None) gives None."""
    if isinstance(value, NUMBER_TYPES):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(item, NUMBER_TYPES) for item in value):
        return list(value)
    return None


def make_observer(settings, state_sizes=None):
    """The Observer that a run's [preprocessing] settings describe.

    ``state_sizes`` (key -> number of values), as saved in a checkpoint,
    fixes the sizes of the observed keys that config.toml does not declare.
    """
    sizes = dict(settings["observe_state_sizes"])
    sizes.update(state_sizes or {})
    return Observer(
        settings["character_set"], tuple(settings["board_size"]), board=settings["board"],
        observe_state=settings["observe_state"], observe_state_sizes=sizes,
        egocentric=settings["egocentric"], egocentric_player=settings["egocentric_player"],
        egocentric_radius=settings["egocentric_radius"])
