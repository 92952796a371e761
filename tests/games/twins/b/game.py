"""Twin B: a game file named game.py, like twins/a/game.py, with a 4x5 board."""

from retro.game import Game


class Dot:
    name = "twin b"
    character = "b"
    position = (0, 0)


def create_game():
    return Game([Dot()], {"score": 0}, board_size=(4, 5))
