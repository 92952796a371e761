"""A game whose create_game() raises: its level file is missing."""


def load_level(name):
    raise FileNotFoundError(f"level file {name} is missing")


def create_game():
    load_level("levels/first.txt")
