"""The two agents of Catch: the paddle the player moves and the ball."""

from random import randrange


class Paddle:
    """Moves one cell left or right along the bottom row, stopping at the edges."""

    name = "paddle"
    character = "="

    def __init__(self, position):
        self.position = position

    def handle_keystroke(self, keystroke, game):
        x, y = self.position
        width, _ = game.board_size
        if keystroke.name == "KEY_LEFT" and x > 0:
            self.position = (x - 1, y)
        elif keystroke.name == "KEY_RIGHT" and x < width - 1:
            self.position = (x + 1, y)


class Ball:
    """Falls one row per turn; is caught or missed when it reaches the paddle's row."""

    name = "ball"
    character = "o"
    position = (0, 0)

    def drop(self, game):
        """Start a new ball in a random column of the top row."""
        width, _ = game.board_size
        self.position = (randrange(width), 0)

    def play_turn(self, game):
        x, y = self.position
        _, height = game.board_size
        paddle_row = height - 1
        if y + 1 < paddle_row:
            self.position = (x, y + 1)
            return
        paddle_x, _ = game.get_agent_by_name("paddle").position
        game.state["score"] += 1 if paddle_x == x else -1
        game.state["balls_left"] -= 1
        if game.state["balls_left"] == 0:
            game.end()
        else:
            self.drop(game)
