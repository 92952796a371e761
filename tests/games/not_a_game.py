"""A game whose create_game() forgets to wrap its agents in a Game."""


class Dot:
    character = "."
    position = (0, 0)


def create_game():
    return [Dot()]
