"""How does an agent play one episode of a retro game?

Reinforcement learning sees a game as an *environment*: ``reset()`` starts an
episode, and ``step(action)`` plays one turn and answers with the reward and
whether the episode is over. A retro game runs its own loop with a keyboard
and a terminal; for training it gets two stand-ins instead:

* ``ProgrammaticInput``: the key the agent chose is "pressed" for one turn;
* ``HeadlessView``: the board is drawn into ``board_characters`` (a list of
  rows, ``board_characters[y][x]``, ``' '`` where empty) instead of a screen.

Actions are numbered ``0 .. len(actions)``: action ``i < len(actions)``
presses ``actions[i]``; the last action, ``len(actions)``, presses nothing
(the no-op). The reward of a turn is the change of one state value::

    reward_t = state[reward_key] after turn t  -  state[reward_key] before it

and the episode is over when the game stops playing (``game.end()``).

Games draw their randomness from Python's ``random`` module: seed it to make
episodes repeat.
"""

import numpy as np
from retro.input import ProgrammaticInput
from retro.views.headless import HeadlessView

from retro_gamer.errors import GameError
from retro_gamer.games import game_crashed, new_game


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
        self.view = HeadlessView()
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
    seen = set(all_characters(environment.board_characters))
    for _ in range(turns):
        if environment.done:
            environment.reset()
            seen.update(all_characters(environment.board_characters))
        environment.step(int(rng.integers(environment.num_actions)))
        seen.update(all_characters(environment.board_characters))
    seen.discard(" ")
    return sorted(seen)


def all_characters(board_characters) -> str:
    """Every cell of a board, row after row, as one string."""
    return "".join(["".join(row) for row in board_characters])
