"""Constant reward: the player moves, but nothing ever changes the reward key
"score" (for ``retro-gamer check``: a reward that never changes).

The player has no name, so an egocentric view could not follow it either.
The steps it took are counted in "steps", which the game forgot to reward.
"""

from retro.game import Game

MOVES = {"KEY_LEFT": -1, "KEY_RIGHT": 1}
MAX_TURNS = 30


class Wanderer:
    character = "w"

    def __init__(self):
        self.position = (2, 0)

    def handle_keystroke(self, keystroke, game):
        x, y = self.position
        new_x = x + MOVES.get(keystroke.name, 0)
        if game.on_board((new_x, y)):
            self.position = (new_x, y)
            game.state["steps"] += 1

    def play_turn(self, game):
        if game.turn_number >= MAX_TURNS:
            game.end()


def create_game():
    return Game([Wanderer()], {"score": 0, "steps": 0}, board_size=(5, 1))
