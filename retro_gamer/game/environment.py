"""How does an agent play one episode of a retro game?

Reinforcement learning sees a game as an *environment*: ``reset()`` starts an
episode, and ``step(action)`` plays one turn and answers with the reward and
whether the episode is over. A retro game runs its own loop with a keyboard
and a terminal; for training it gets two stand-ins instead:

* ``ProgrammaticInput``: the key the agent chose is "pressed" for one turn;
* ``BoardView``: instead of a screen, the board is drawn into a list of the
  cells that hold something, ``drawn_cells = [(x, y, character), ...]``.

retro-games ships a ``HeadlessView`` that draws every turn into a full list
of rows of characters (``board_characters[y][x]``, ``' '`` where empty).
Most of a Snake board is empty, and building those rows cost a third of the
game's turn; the agent's observation then had to read all of them back.
``BoardView`` draws the same characters (the top agent of each occupied
cell, by ``z``, exactly as ``HeadlessView`` chooses it) but keeps only the
occupied cells; ``board_characters`` is rebuilt from them only when someone
asks (``play``'s screen does).

Actions are numbered ``0 .. len(actions)``: action ``i < len(actions)``
presses ``actions[i]``; the last action, ``len(actions)``, presses nothing
(the no-op). The reward of a turn is the change of one state value::

    reward_t = state[reward_key] after turn t  -  state[reward_key] before it

and the episode is over when the game stops playing (``game.end()``).

Games draw their randomness from Python's ``random`` module: seed it to make
episodes repeat.
"""

from dataclasses import dataclass

import numpy as np
from retro.input import ProgrammaticInput
from retro.views._util import get_agent_character  # what HeadlessView draws in a cell

from retro_gamer.errors import GameError
from retro_gamer.game.loading import game_crashed, new_game


def z_order(agent) -> int:
    """An agent's height on the board: its ``z`` (0 when it has none)."""
    return getattr(agent, "z", 0) or 0


def top_agent(agents):
    """The agent drawn in a cell that ``agents`` share: the highest ``z``, the first of equals.

    retro-games' own views choose so; ``BoardView`` draws this agent's
    character, and ``play`` colours the cell in this agent's colour.
    """
    if len(agents) == 1:
        return agents[0]
    return max(agents, key=z_order)


class BoardView:
    """A retro-games view that keeps the drawn cells instead of a screen.

    After every turn, ``drawn_cells`` lists ``(x, y, character)`` for each
    occupied cell, and ``board_size`` is ``(width, height)``.
    """

    def __init__(self):
        self.drawn_cells = []
        self.board_size = (0, 0)

    def on_game_start(self, game) -> None:
        self.drawn_cells = []
        self.board_size = game.board_size

    def render(self, game) -> None:
        self.board_size = game.board_size
        drawn_cells = []
        for (x, y), agents in game.get_agents_by_position().items():
            drawn_cells.append((x, y, get_agent_character(top_agent(agents), (x, y))))
        self.drawn_cells = drawn_cells

    @property
    def board_characters(self) -> list[list[str]]:
        """The whole board as rows of characters: ``board_characters[y][x]``."""
        width, height = self.board_size
        board = [[" "] * width for _ in range(height)]
        for x, y, character in self.drawn_cells:
            if 0 <= x < width and 0 <= y < height:
                board[y][x] = character
        return board


class Environment:
    """One retro game as ``reset()`` / ``step(action_index)``.

    factory: a ``GameSource`` or a function returning a new Game.
    actions: the key names the agent may press.
    reward_key: the state key whose change is the reward (None: every reward
        is 0, for exploring a game before its reward is known).
    """

    def __init__(self, factory, actions: list[str], reward_key: str | None = None):
        self.factory = factory
        self.actions = list(actions)
        self.reward_key = reward_key
        self.num_actions = len(self.actions) + 1
        self.game = None
        self.view = None
        self.keyboard = None
        self.turn = 0
        self.reward_value = 0.0

    @property
    def drawn_cells(self) -> list[tuple[int, int, str]]:
        """The occupied cells after the last turn: ``(x, y, character)``."""
        return self.view.drawn_cells

    @property
    def board_characters(self) -> list[list[str]]:
        """The board after the last turn: ``board_characters[y][x]``."""
        return self.view.board_characters

    @property
    def done(self) -> bool:
        """Whether the current episode is over."""
        return not self.game.playing

    def reset(self) -> None:
        """Start a new episode with a new game from the factory."""
        self.game = new_game(self.factory)
        self.keyboard = ProgrammaticInput()
        self.view = BoardView()
        self.game.input_source = self.keyboard
        self.game.view = self.view
        self.turn = 0
        try:
            self.game.start()
            # retro-games caches where agents stand and clears the cache only
            # after an agent's play_turn; create_game may have moved agents
            # since (Snake places its apple last), so forget the cache before
            # drawing the real first board (start() only clears the view).
            self.game._position_cache = None
            self.view.render(self.game)
        except Exception as error:
            raise game_crashed("while starting an episode (turn 0)", error) from error
        self.reward_value = self.read_reward_value()

    def step(self, action_index: int) -> tuple[float, bool]:
        """Play one turn; return ``(reward, done)``."""
        if not 0 <= action_index < self.num_actions:
            raise ValueError(f"action {action_index} is not in 0..{self.num_actions - 1}")
        if not self.game.playing:
            raise RuntimeError("the episode is over: call reset() before step()")
        if action_index < len(self.actions):
            self.keyboard.press(self.actions[action_index])
        self.turn += 1
        try:
            self.game.step()
        except Exception as error:
            raise game_crashed(f"on turn {self.turn}", error) from error
        previous_value = self.reward_value
        self.reward_value = self.read_reward_value()
        return self.reward_value - previous_value, not self.game.playing

    def read_reward_value(self) -> float:
        """The current value of the reward key (0.0 without one)."""
        if self.reward_key is None:
            return 0.0
        state = self.game.state
        value = state.get(self.reward_key)
        if isinstance(value, (int, float)):
            return float(value)
        present = ", ".join(f"{key!r}" for key in state) or "none"
        if self.reward_key not in state:
            problem = f"is not in the game's state (the state has: {present})"
        else:
            problem = f"holds {value!r}, which is not a number (the state has: {present})"
        raise GameError(
            f"The reward key {self.reward_key!r} {problem} on turn {self.turn}. Set reward "
            "to a state key that holds a number, or make the game keep a number under "
            f"{self.reward_key!r} from the start."
        )


def discover_characters(
    factory, actions: list[str], turns: int, rng: np.random.Generator
) -> list[str]:
    """The characters seen on the board during ``turns`` random turns.

    Used when a description gives no character_set. Finished episodes are
    restarted; the first board of every episode counts too. Returns the
    sorted characters, without the empty cell ``' '``.
    """
    environment = Environment(factory, actions)
    environment.reset()
    seen = {character for _, _, character in environment.drawn_cells}
    for _ in range(turns):
        if environment.done:
            environment.reset()
            seen.update(character for _, _, character in environment.drawn_cells)
        environment.step(int(rng.integers(environment.num_actions)))
        seen.update(character for _, _, character in environment.drawn_cells)
    seen.discard(" ")
    return sorted(seen)


@dataclass(frozen=True)
class RandomGames:
    """What ``create`` measures of a game in random play (``random_games``).

    mean_length: the mean length of a game, in turns.
    rewarded_share: the share of turns whose reward was not 0 (nav, whose
        score rises every turn survived: 1.0; beast, rewarded when a beast is
        crushed or the player dies: about 0.02).
    """

    mean_length: float
    rewarded_share: float


def random_games(factory, actions: list[str], reward_key: str | None, turns: int,
                 rng: np.random.Generator) -> RandomGames:
    """Random play for ``turns`` turns: the mean length of its games and how often it is rewarded.

    Used by ``create`` to choose an episode cap when a description gives
    none. A game still running at the end counts with its length so far
    when no game finished or it is already the longest (an endless game
    measures ``turns``).
    """
    environment = Environment(factory, actions, reward_key)
    environment.reset()
    lengths, length, rewarded = [], 0, 0
    for _ in range(turns):
        if environment.done:
            lengths.append(length)
            environment.reset()
            length = 0
        reward, _ = environment.step(int(rng.integers(environment.num_actions)))
        if reward != 0:
            rewarded += 1
        length += 1
    if not lengths or length > max(lengths):
        lengths.append(length)
    return RandomGames(float(np.mean(lengths)), rewarded / turns)
