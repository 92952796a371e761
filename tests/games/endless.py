"""Endless: one state, a point every turn, and no way to lose.

The game never ends by itself, so every episode is cut short by
``max_turns_per_episode``. Its true value with discount gamma is the
infinite sum 1 + gamma + gamma**2 + ... = 1 / (1 - gamma): an agent that
wrongly treats the cut as the game ending learns a much smaller value.
The state key ``one`` is always 1.0, so the agent has something to see.
"""

from retro.game import Game


class Ticker:
    character = "t"
    position = (0, 0)

    def play_turn(self, game):
        game.state["score"] += 1


def create_game():
    return Game([Ticker()], {"score": 0, "one": 1.0}, board_size=(1, 1))
