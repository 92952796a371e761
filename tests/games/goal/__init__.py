"""Goal: walk to the flag. A sparse reward, paid once, in large units.

The board is 8 wide and 6 tall. The walker ("@", named "walker") and the
flag ("F") start on two different random cells. The walker moves one cell
per arrow key (stopping at the edges). Reaching the flag pays 100 points at
once and ends the game; nothing else pays anything. The game also ends,
with no points, after 40 turns.

Random play reaches the flag in some games; an agent that walks straight
to it always does (at most 12 moves on this board). It checks that a single
large reward, with nothing before it, is learned without choosing a
reward scale, from a player who starts anywhere on the board.
"""

import random

from retro.game import Game

WIDTH = 8
HEIGHT = 6
MAX_TURNS = 40
PRIZE = 100
MOVES = {"KEY_RIGHT": (1, 0), "KEY_LEFT": (-1, 0), "KEY_UP": (0, -1), "KEY_DOWN": (0, 1)}


class Walker:
    name = "walker"
    character = "@"

    def __init__(self, position):
        self.position = position

    def handle_keystroke(self, keystroke, game):
        dx, dy = MOVES.get(keystroke.name, (0, 0))
        x, y = self.position
        if game.on_board((x + dx, y + dy)):
            self.position = (x + dx, y + dy)

    def play_turn(self, game):
        if self.position == game.get_agent_by_name("flag").position:
            game.state["score"] += PRIZE
            game.end()
        elif game.turn_number >= MAX_TURNS:
            game.end()


class Flag:
    name = "flag"
    character = "F"

    def __init__(self, position):
        self.position = position


def create_game():
    cells = [(x, y) for x in range(WIDTH) for y in range(HEIGHT)]
    walker_cell, flag_cell = random.sample(cells, 2)
    return Game([Walker(walker_cell), Flag(flag_cell)], {"score": 0}, board_size=(WIDTH, HEIGHT))
