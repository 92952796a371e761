"""Which agent is the player, and which view of the board does a new run get?

The player is the agent the keystrokes go to. retro-games hands every key
pressed in a turn to each agent that has a ``handle_keystroke`` method (see
``Game.step``), so the agents with that method are the ones the agent's
actions can move. An egocentric view follows one agent by its ``name``
attribute (``game.agents_by_name``), so that name is what
``egocentric_player`` must hold.

``choose_view`` is the one place that decides which view ``create`` gives a
game; ``create`` (through ``folder.game_settings``) and ``check`` both ask it.
What the description or the command line says is kept. For what neither
says, it follows rules measured across games (issue #22):

- egocentric_player: the one agent with a ``handle_keystroke`` method, if
  there is exactly one and it has a name;
- egocentric: true when there is such a player and the agent sees the board;
- egocentric_radius: on a board whose longer side is at most
  ``WHOLE_BOARD_UP_TO`` cells, that side - 1, so the window shows the whole
  board from any cell; on a larger board ``WINDOW_RADIUS`` (a 7x7 window);
- conv_channels: ``WINDOW_CONV_CHANNELS`` when spatial = true and the window
  was chosen here (a description or command line that picks the view itself
  keeps the table's convolutions).

Why a window: "the gold one cell to my right" is then one input wherever the
player stands, instead of a different one at every position of the board.
Measured on nav (25 x 25), a 7x7 window read by a CNN of one 3x3 layer of 8
channels trained at 600-750 turns a second, against about 30 for the
table's [16, 32] CNN over the whole board; with create's falling learning
rate (run/folder.py) it scored 10.8 to 12.6 times random play on three
seeds, and every small test game beat random play (docs/results.md).
"""

from dataclasses import dataclass

from retro_gamer.run.settings import SETTINGS_BY_NAME

# The preprocessing settings that make up "the view".
VIEW_SETTINGS = ("board", "spatial", "egocentric", "egocentric_player", "egocentric_radius")

# A board whose longer side is at most this many cells is seen whole from any cell.
WHOLE_BOARD_UP_TO = 12
# The radius of the window on a larger board: (2 x 3 + 1) = 7 cells a side.
WINDOW_RADIUS = 3
# The convolutions a spatial network gets over a window chosen here: the window
# is small, and the dense layers after the convolution see all of it.
WINDOW_CONV_CHANNELS = [8]


@dataclass(frozen=True)
class Player:
    """An agent that receives the keystrokes.

    name: its ``name`` attribute (what ``egocentric_player`` takes), or None.
    kind: its class name, to recognise it in messages.
    """

    name: str | None
    kind: str

    def describe(self) -> str:
        if self.name is None:
            return f"a {self.kind} without a name"
        return f"{self.name!r} (a {self.kind})"


def find_players(game) -> list[Player]:
    """The game's agents that have a ``handle_keystroke`` method, in the game's order."""
    players = []
    for agent in game.agents:
        if callable(getattr(agent, "handle_keystroke", None)):
            name = getattr(agent, "name", None)
            players.append(Player(name if isinstance(name, str) and name else None, type(agent).__name__))
    return players


def the_player(players: list[Player]) -> str | None:
    """The name of the one player a window can follow, or None (no player, several, or no name)."""
    if len(players) == 1 and players[0].name is not None:
        return players[0].name
    return None


def no_player_reason(players: list[Player]) -> str:
    """Why ``the_player`` found no player to follow, in words."""
    if not players:
        return "no agent has a handle_keystroke method, so there is no player to follow"
    if len(players) > 1:
        return (f"{len(players)} agents have a handle_keystroke method; set egocentric_player "
                "to follow one of them")
    return f"the player, a {players[0].kind}, has no name for a window to follow"


def window_radius(board_size) -> int:
    """The radius of a window chosen here: the whole board from any cell on a small board,
    else ``WINDOW_RADIUS``."""
    longer = max(board_size)
    return max(1, longer - 1) if longer <= WHOLE_BOARD_UP_TO else WINDOW_RADIUS


def size(width, height) -> str:
    return f"{width}x{height}"


@dataclass(frozen=True)
class ViewChoice:
    """The view settings of a run (and the convolutions that read it), and why.

    chosen: whether ``choose_view`` chose the view itself (the description and
        the command line said nothing about egocentric); ``create`` says so.
    view_reason, network_reason: why, in words, for the summary lines.
    """

    board: bool
    spatial: bool
    egocentric: bool
    egocentric_player: str
    egocentric_radius: int
    conv_channels: list
    board_size: tuple
    chosen: bool
    view_reason: str
    network_reason: str

    def settings(self) -> dict:
        """The choice as ``{setting name: value}``, ready for a run's settings."""
        return {name: getattr(self, name) for name in (*VIEW_SETTINGS, "conv_channels")}

    def view_text(self) -> str:
        """What the agent sees: ``a 7x7 window around 'ship'``."""
        if not self.board:
            return "no board, only the observe_state values"
        if self.egocentric:
            side = 2 * self.egocentric_radius + 1
            article = "an" if side == 11 or str(side).startswith("8") else "a"  # an 11x11, an 81x81
            return f"{article} {size(side, side)} window around {self.egocentric_player!r}"
        return f"the whole {size(*self.board_size)} board"

    def network_text(self) -> str:
        """What reads it: ``CNN, one 3x3 layer of 8 channels over the window``."""
        if not self.board:
            return "MLP over the observe_state values"
        seen = "the window" if self.egocentric else "the whole board"
        if not self.spatial:
            return f"MLP over {seen}"
        if len(self.conv_channels) == 1:
            return f"CNN, one 3x3 layer of {self.conv_channels[0]} channels over {seen}"
        layers = ", ".join(str(channels) for channels in self.conv_channels)
        return f"CNN, {len(self.conv_channels)} 3x3 layers of {layers} channels over {seen}"

    def view_line(self) -> str:
        return f"{self.view_text()} ({self.view_reason})"

    def network_line(self) -> str:
        return f"{self.network_text()} ({self.network_reason})"

    @classmethod
    def from_settings(cls, settings, where="config.toml") -> "ViewChoice":
        """The view a run's settings already hold (a run folder's config.toml)."""
        return cls(settings.board, settings.spatial, settings.egocentric, settings.egocentric_player,
                   settings.egocentric_radius, list(settings.conv_channels), tuple(settings.board_size),
                   False, f"as {where} says", f"as {where} says")


def choose_view(description: dict, options: dict, players: list[Player], board_size) -> ViewChoice:
    """The view a new run of a game gets.

    description: the game's ``[tool.retro-gamer]`` values.
    options: the command-line options (they win over the description).
    players: the game's players (``find_players``).
    board_size: ``(width, height)``, from the game.
    """
    values = {**description, **options}

    def given(name):
        """Where a setting was given, in words, or None."""
        if name in options:
            return "on the command line"
        if name in description:
            return "in the game's description"
        return None

    def value(name):
        return values.get(name, SETTINGS_BY_NAME[name].default)

    def toml(flag):
        return "true" if flag else "false"

    width, height = board_size
    board, spatial = value("board"), value("spatial")
    chosen = board and given("egocentric") is None
    player = value("egocentric_player")
    found = given("egocentric_player") is None and the_player(players) is not None
    if found:
        player = the_player(players)
    egocentric = value("egocentric") if given("egocentric") else bool(board and player)
    radius = value("egocentric_radius")
    if egocentric and given("egocentric_radius") is None:
        radius = window_radius(board_size)
    conv_channels = list(value("conv_channels"))
    conv_chosen = chosen and egocentric and spatial and given("conv_channels") is None
    if conv_chosen:
        conv_channels = list(WINDOW_CONV_CHANNELS)

    if not board:
        view_reason = f"board = false {given('board')}"
    elif not chosen:
        view_reason = f"egocentric = {toml(egocentric)} {given('egocentric')}"
    elif egocentric:
        whom = "the agent that gets the keys" if found else f"egocentric_player {given('egocentric_player')}"
        if given("egocentric_radius"):
            how_far = f"egocentric_radius = {radius} {given('egocentric_radius')}"
        elif max(board_size) <= WHOLE_BOARD_UP_TO:
            how_far = f"it shows the whole {size(width, height)} board from any cell"
        else:
            how_far = f"a {size(width, height)} board is too big to see whole"
        view_reason = f"{whom}; {how_far}"
    else:
        view_reason = no_player_reason(players)

    if not board:
        network_reason = "there is no board to read"
    else:
        network_reason = f"spatial = {toml(spatial)} " + (given("spatial") or "by default")
        if spatial and given("conv_channels"):
            network_reason += f", conv_channels {given('conv_channels')}"
        elif spatial and not conv_chosen:
            network_reason += ", conv_channels by default"
    return ViewChoice(board, spatial, egocentric, player, radius, conv_channels, (width, height),
                      chosen, view_reason, network_reason)
