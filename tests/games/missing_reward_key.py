"""A game with no "score" in its state (the description's reward key)."""

from retro.game import Game


class Dot:
    character = "."
    position = (0, 0)


def create_game():
    return Game([Dot()], {"points": 0, "lives": 3}, board_size=(3, 3))
