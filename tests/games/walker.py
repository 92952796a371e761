"""Walker: a small, fully predictable game for tests.

A walker ("@", named "walker") starts at (2, 2) on a board 6 wide and 4
tall and moves one cell per arrow key, stopping at the edges. Two walls
("█", a character beyond Latin-1) stand at (5, 0) and (5, 1); the walker
may walk through them (it is drawn on top). No randomness.

Every turn changes the score by a known amount: KEY_RIGHT +2, KEY_LEFT -1,
anything else 0. The game ends after MAX_TURNS turns.
"""

from retro.game import Game

WIDTH = 6
HEIGHT = 4
MAX_TURNS = 30
START = (2, 2)
WALLS = [(5, 0), (5, 1)]
SCORE_CHANGES = {"KEY_RIGHT": 2, "KEY_LEFT": -1}
MOVES = {"KEY_RIGHT": (1, 0), "KEY_LEFT": (-1, 0), "KEY_UP": (0, -1), "KEY_DOWN": (0, 1)}


class Walker:
    name = "walker"
    character = "@"
    z = 1

    def __init__(self):
        self.position = START

    def handle_keystroke(self, keystroke, game):
        game.state["score"] += SCORE_CHANGES.get(keystroke.name, 0)
        dx, dy = MOVES.get(keystroke.name, (0, 0))
        x, y = self.position
        if game.on_board((x + dx, y + dy)):
            self.position = (x + dx, y + dy)

    def play_turn(self, game):
        if game.turn_number >= MAX_TURNS:
            game.end()


class Wall:
    character = "█"

    def __init__(self, position):
        self.position = position


def create_game():
    agents = [Walker()] + [Wall(position) for position in WALLS]
    return Game(agents, {"score": 0}, board_size=(WIDTH, HEIGHT))
