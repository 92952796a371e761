"""Gather: pick up coins on a board wider than the window, starting in a corner.

The board is 16 wide and 10 tall. The gatherer ("@", named "gatherer")
starts in the top-left corner, far from the board's centre, and moves one
cell per arrow key (stopping at the edges). Three coins ("$") lie on random
cells; stepping on one scores 1 and puts a new coin on a random empty cell.
Rocks ("#") on random cells cost 1 point each time the gatherer steps onto
one. The game ends after 150 turns.

Random play picks up a few coins; an agent that walks to the nearest coin
picks up many. Unlike Snake or nav the player is not kept near the centre
of anything: a window around it reaches past the board's edge on one side
at the start, and a coin may lie outside a small window.
"""

import random

from retro.game import Game

WIDTH = 16
HEIGHT = 10
MAX_TURNS = 150
COINS = 3
ROCKS = 12
MOVES = {"KEY_RIGHT": (1, 0), "KEY_LEFT": (-1, 0), "KEY_UP": (0, -1), "KEY_DOWN": (0, 1)}


class Gatherer:
    name = "gatherer"
    character = "@"
    z = 1

    def __init__(self):
        self.position = (0, 0)

    def handle_keystroke(self, keystroke, game):
        dx, dy = MOVES.get(keystroke.name, (0, 0))
        x, y = self.position
        if game.on_board((x + dx, y + dy)):
            self.position = (x + dx, y + dy)

    def play_turn(self, game):
        for agent in list(game.agents):
            if agent is not self and agent.position == self.position:
                if isinstance(agent, Coin):
                    game.state["score"] += 1
                    agent.position = empty_cell(game)
                elif isinstance(agent, Rock):
                    game.state["score"] -= 1
        if game.turn_number >= MAX_TURNS:
            game.end()


class Coin:
    character = "$"

    def __init__(self, position):
        self.position = position


class Rock:
    character = "#"

    def __init__(self, position):
        self.position = position


def empty_cell(game):
    taken = {agent.position for agent in game.agents}
    return random.choice([(x, y) for x in range(WIDTH) for y in range(HEIGHT) if (x, y) not in taken])


def create_game():
    cells = [(x, y) for x in range(WIDTH) for y in range(HEIGHT) if (x, y) != (0, 0)]
    chosen = random.sample(cells, COINS + ROCKS)
    agents = [Gatherer()] + [Coin(cell) for cell in chosen[:COINS]] + [Rock(cell) for cell in chosen[COINS:]]
    return Game(agents, {"score": 0}, board_size=(WIDTH, HEIGHT))
