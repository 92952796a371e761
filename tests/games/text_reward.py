"""A game whose "score" (the description's reward key) is text, not a number."""

from retro.game import Game


class Dot:
    character = "."
    position = (0, 0)


def create_game():
    return Game([Dot()], {"score": "none yet"}, board_size=(3, 3))
