"""A working game; its pyproject.toml has a bad description."""

from retro.game import Game


class Dot:
    character = "."
    position = (0, 0)


def create_game():
    return Game([Dot()], {"score": 0}, board_size=(3, 3))
