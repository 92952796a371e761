"""A game with a bug that strikes on turn 3: a division by zero.

The fuse agent divides by (3 - turn number), so turns 1 and 2 run and turn
3 raises ZeroDivisionError inside Fuse.play_turn.
"""

from retro.game import Game

CRASH_TURN = 3


class Fuse:
    character = "*"
    position = (0, 0)

    def play_turn(self, game):
        game.state["score"] += 1 / (CRASH_TURN - game.turn_number)


def create_game():
    return Game([Fuse()], {"score": 0}, board_size=(3, 3))
