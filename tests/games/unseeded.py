"""Unseeded: a coin lands on a random cell each turn, drawn from a
random.Random() of the game's own, which retro-gamer cannot seed. The same
seed therefore gives a different episode every time (for ``retro-gamer
check``'s reproducibility finding).

A catcher ("@", named "catcher") moves left and right on a 6 x 1 board and
scores a point when the coin lands on it; the game ends after 50 turns.
"""

import random

from retro.game import Game

WIDTH = 6
MAX_TURNS = 50
OWN_GENERATOR = random.Random()  # seeded from the clock: the bug under test
MOVES = {"KEY_LEFT": -1, "KEY_RIGHT": 1}


class Catcher:
    name = "catcher"
    character = "@"
    z = 1

    def __init__(self):
        self.position = (0, 0)

    def handle_keystroke(self, keystroke, game):
        x = self.position[0] + MOVES.get(keystroke.name, 0)
        if 0 <= x < WIDTH:
            self.position = (x, 0)


class Coin:
    name = "coin"
    character = "$"

    def __init__(self):
        self.position = (OWN_GENERATOR.randrange(WIDTH), 0)

    def play_turn(self, game):
        self.position = (OWN_GENERATOR.randrange(WIDTH), 0)
        if self.position == game.get_agent_by_name("catcher").position:
            game.state["score"] += 1
        if game.turn_number >= MAX_TURNS:
            game.end()


def create_game():
    return Game([Catcher(), Coin()], {"score": 0}, board_size=(WIDTH, 1))
