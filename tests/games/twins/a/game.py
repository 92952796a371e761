"""Twin A: a game file named game.py, like twins/b/game.py, with a 3x2 board."""

from retro.game import Game


class Dot:
    name = "twin a"
    character = "a"
    position = (0, 0)


def create_game():
    return Game([Dot()], {"score": 0}, board_size=(3, 2))
