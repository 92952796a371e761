"""Growing list: the description observes "path", a list of the player's
past x positions that grows by one every turn. The network's input size is
fixed when training begins, so training would stop on turn 1 (for
``retro-gamer check``'s observe_state finding: a list that changes length).

A mover ("@", named "mover") walks left and right on a 5 x 1 board and
scores a point for each step right; the game ends after 20 turns.
"""

from retro.game import Game

MOVES = {"KEY_LEFT": -1, "KEY_RIGHT": 1}
MAX_TURNS = 20


class Mover:
    name = "mover"
    character = "@"

    def __init__(self):
        self.position = (0, 0)

    def handle_keystroke(self, keystroke, game):
        x = self.position[0] + MOVES.get(keystroke.name, 0)
        if 0 <= x < game.board_size[0]:
            self.position = (x, 0)
            game.state["score"] += max(MOVES[keystroke.name], 0)

    def play_turn(self, game):
        x = self.position[0]
        game.state["x"] = x
        game.state["path"] = game.state["path"] + [x]  # one longer each turn: the bug under test
        if game.turn_number >= MAX_TURNS:
            game.end()


def create_game():
    game = Game([Mover()], {"score": 0, "x": 0}, board_size=(5, 1))
    game.state["path"] = [0]  # lists must be set after Game(...) is built
    return game
