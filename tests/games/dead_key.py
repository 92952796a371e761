"""Dead key: the description lists KEY_LEFT and KEY_RIGHT, but the player
only ever responds to KEY_RIGHT, so KEY_LEFT is an action that never changes
anything (for ``retro-gamer check``).

A runner ("@", named "runner") on a 8 x 1 track moves one cell right per
KEY_RIGHT, earning a point; the game ends when it reaches the end, or after
40 turns.
"""

from retro.game import Game

LENGTH = 8
MAX_TURNS = 40


class Runner:
    name = "runner"
    character = "@"

    def __init__(self):
        self.position = (0, 0)

    def handle_keystroke(self, keystroke, game):
        if keystroke.name == "KEY_RIGHT":  # KEY_LEFT is forgotten: the bug under test
            x, y = self.position
            self.position = (x + 1, y)
            game.state["score"] += 1

    def play_turn(self, game):
        if self.position[0] == LENGTH - 1 or game.turn_number >= MAX_TURNS:
            game.end()


def create_game():
    return Game([Runner()], {"score": 0}, board_size=(LENGTH, 1))
