"""A game that names its factory make_game instead of create_game."""

from retro.game import Game


class Dot:
    character = "."
    position = (0, 0)


def make_game():
    return Game([Dot()], {"score": 0}, board_size=(3, 3))
