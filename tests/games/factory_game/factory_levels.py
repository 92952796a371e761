"""Two levels of one game; factory_game/pyproject.toml picks small_level."""

from retro.game import Game


class Dot:
    name = "dot"
    character = "."
    position = (0, 0)


def small_level():
    return Game([Dot()], {"score": 0}, board_size=(2, 2))


def large_level():
    return Game([Dot()], {"score": 0}, board_size=(20, 20))
