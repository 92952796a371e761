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

Only the occupied cells are looked at. The environment's view lists the
cells that hold something, ``drawn_cells = [(x, y, character), ...]``: on a
Snake board a handful out of 512. Encoding starts from a blank board (code
0 everywhere: a copy of a ready-made array) and writes the code of each
occupied cell::

      board_codes[y, x] = codes_by_character[character]

A loop over every cell of the board would cost more than the game's whole
turn; this loop is as long as the list of things on the board. Any
character works, '█' or an emoji included: it is a dictionary key.

The egocentric window. With ``egocentric = true`` the agent sees only the
``(2r + 1) x (2r + 1)`` cells around the player at ``(x, y)``: rows
``y - r .. y + r`` and columns ``x - r .. x + r``. A blank padded board,
``r`` cells wider on every side, holds the edge code in its padding and 0
inside. Board cell ``(x, y)`` sits at padded ``(x + r, y + r)``, so the
blank window is a plain slice, ``padded[y : y + 2r + 1, x : x + 2r + 1]``,
with the edge code already in every cell past the board's edge (never
"empty": the agent must see the wall it would hit). Then each occupied cell
that falls inside the window is written at row ``cy - (y - r)``, column
``cx - (x - r)``. The whole board is the same thing with ``r = 0`` and a
window the size of the board.

The network's input size is fixed when training begins, so the number of
values of every observed key is fixed too: declared in
``observe_state_sizes`` or taken from the first game, and checked at the
start of every episode (and every turn, for free, while reading them).
"""

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
    input layer and the training log's header need to know.

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
        """Human-readable lines, for the header of training.log."""
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
        # Character -> code. Characters found on the board but not in the set
        # are added with code 0 (empty) the first time they are seen.
        self.codes_by_character = {character: code for code, character in enumerate(self.character_set, 1)}
        self.edge_code = len(self.character_set) + 1
        self.player_position = None
        self.known_layout = None
        # The blank board: 0 (empty) on the board, the edge code in the padding.
        self.padding = self.radius if self.egocentric else 0
        padding = self.padding
        padded_shape = (self.board_height + 2 * padding, self.board_width + 2 * padding)
        self.blank_board = np.full(padded_shape, self.edge_code, dtype=np.uint8)
        self.blank_board[padding : padding + self.board_height, padding : padding + self.board_width] = 0

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

    def encode(self, game, drawn_cells) -> tuple[np.ndarray, np.ndarray]:
        """One turn as ``(board_codes, state_values)``.

        drawn_cells: the occupied cells, ``(x, y, character)`` (see
            ``environment.BoardView``).
        board_codes: uint8 ``(height, width)`` (``(0, 0)`` without a board).
        state_values: float32 ``(state_size,)``.
        """
        if not self.board:
            board_codes = NO_BOARD
        elif self.egocentric:
            x, y = self.find_player(game)
            side = 2 * self.radius + 1
            board_codes = self.codes_in_view(drawn_cells, x - self.radius, y - self.radius, side, side)
        else:
            board_codes = self.codes_in_view(drawn_cells, 0, 0, self.board_width, self.board_height)
        return board_codes, self.read_state(game)

    def codes_in_view(self, drawn_cells, left, top, width, height) -> np.ndarray:
        """Codes of the cells in columns ``left .. left + width - 1`` and rows
        ``top .. top + height - 1`` of the board, shape ``(height, width)``.

        The rectangle may reach up to ``padding`` cells past the board's edge.
        """
        padding = self.padding
        board_codes = self.blank_board[
            top + padding : top + padding + height, left + padding : left + padding + width
        ].copy()
        codes_by_character = self.codes_by_character
        for x, y, character in drawn_cells:
            row, column = y - top, x - left
            if 0 <= row < height and 0 <= column < width:
                code = codes_by_character.get(character)
                if code is None:
                    code = self.unknown_character_code(character, x, y)
                board_codes[row, column] = code
        return board_codes

    def unknown_character_code(self, character, x, y) -> int:
        """Code 0 (empty) for a character outside character_set, remembered;
        an error for a "character" that is not exactly one character."""
        if not isinstance(character, str) or len(character) != 1:
            raise ObservationError(
                f"the agent drawn at {(x, y)} has the character {character!r}: every agent's "
                "character must be exactly one character (one board cell each)."
            )
        self.codes_by_character[character] = 0
        return 0

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
    sizes = dict(settings.observe_state_sizes)
    sizes.update(state_sizes or {})
    return Observer(
        settings.character_set, tuple(settings.board_size), board=settings.board,
        observe_state=settings.observe_state, observe_state_sizes=sizes,
        egocentric=settings.egocentric, egocentric_player=settings.egocentric_player,
        egocentric_radius=settings.egocentric_radius)
