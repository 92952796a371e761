"""Which agent is the player, and which view of the board does a new run get?

The player is the agent the keystrokes go to. retro-games hands every key
pressed in a turn to each agent that has a ``handle_keystroke`` method (see
``Game.step``), so the agents with that method are the ones the agent's
actions can move. An egocentric view follows one agent by its ``name``
attribute (``game.agents_by_name``), so that name is what
``egocentric_player`` must hold.

``choose_view`` is the one place that decides which view ``create`` gives a
game; ``create`` (through ``folder.game_settings``) and ``check`` both ask it.
Today it keeps what the description (and the command line) says and takes
the settings table's defaults for the rest: the whole board, read by an MLP.
A better default (say, a window around the player when there is exactly
one) belongs here, and both commands will follow.
"""

from dataclasses import dataclass

from retro_gamer.run.settings import SETTINGS_BY_NAME

# The preprocessing settings that make up "the view".
VIEW_SETTINGS = ("board", "spatial", "egocentric", "egocentric_player", "egocentric_radius")


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
            players.append(Player(name if isinstance(name, str) else None, type(agent).__name__))
    return players


@dataclass(frozen=True)
class ViewChoice:
    """The view settings of a run, and where they came from."""

    board: bool
    spatial: bool
    egocentric: bool
    egocentric_player: str
    egocentric_radius: int
    chosen_by: str

    def settings(self) -> dict:
        """The choice as ``{setting name: value}``, ready for a run's settings."""
        return {name: getattr(self, name) for name in VIEW_SETTINGS}

    def describe(self, board_size) -> str:
        """One line: ``the whole 32 x 16 board, read by an MLP (the defaults)``."""
        network = "a CNN" if self.spatial else "an MLP"
        if not self.board:
            seen = "no board (only the observe_state values)"
            network = "an MLP"
        elif self.egocentric:
            side = 2 * self.egocentric_radius + 1
            seen = f"a {side} x {side} window around {self.egocentric_player!r}"
        else:
            width, height = board_size
            seen = f"the whole {width} x {height} board"
        return f"{seen}, read by {network} ({self.chosen_by})"


def choose_view(values: dict, players: list[Player] | None = None) -> ViewChoice:
    """The view a new run of a game gets.

    values: the description's keys with the command-line options over them.
    players: the game's players (``find_players``); unused by today's rule,
        which keeps the given values and the defaults, but part of the
        question a better default would ask.
    """
    given = any(name in values for name in VIEW_SETTINGS)
    chosen = {name: values.get(name, SETTINGS_BY_NAME[name].default) for name in VIEW_SETTINGS}
    return ViewChoice(**chosen, chosen_by="from the description" if given else "the defaults")
