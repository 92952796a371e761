"""Layered: agents that overlap and an agent bigger than one cell, for tests
that check what a view draws.

A 3x2 crate (character rows "#=" and "%": some of its cells have no
character and are drawn as ' ') sits at (1, 1). A walker ("@", z = 2)
moves with the arrow keys and may stand on the crate or on a mat (",",
z = -1) that shares the cell of a rug ("~", z = 0).
"""

from retro.game import Game

MOVES = {"KEY_RIGHT": (1, 0), "KEY_LEFT": (-1, 0), "KEY_UP": (0, -1), "KEY_DOWN": (0, 1)}


class Walker:
    name = "walker"
    character = "@"
    z = 2

    def __init__(self):
        self.position = (0, 0)

    def handle_keystroke(self, keystroke, game):
        dx, dy = MOVES.get(keystroke.name, (0, 0))
        x, y = self.position
        if game.on_board((x + dx, y + dy)):
            self.position = (x + dx, y + dy)

    def play_turn(self, game):
        game.state["score"] += 1
        if game.turn_number >= 200:
            game.end()


class Thing:
    def __init__(self, character, position, z=0, size=None):
        self.character = character
        self.position = position
        self.z = z
        if size is not None:
            self.size = size


def create_game():
    agents = [
        Thing(",", (4, 3), z=-1),
        Thing("~", (4, 3)),
        Thing(["#=", "%"], (1, 1), size=(3, 2)),
        Walker(),
    ]
    return Game(agents, {"score": 0}, board_size=(6, 5))
