"""Catch: a paddle on the bottom row catches balls falling from the top.

The board is 5 cells wide and 6 tall. A ball ("o") appears in a random
column of the top row and falls one row per turn. The paddle ("=", named
"paddle") moves one cell left or right per turn along the bottom row. When
the ball reaches the row above the paddle, the next turn decides it: caught
if the paddle is right under it (score +1), missed otherwise (score -1), and
a new ball appears at the top. The game ends after 10 balls.

A ball takes 5 turns to arrive and the paddle needs at most 4 moves to cross
the board, so every ball can be caught: the best score is +10. Random play
scores far less, which makes Catch a quick check that an agent learned.

The agents live in ``agents.py`` and are imported relatively, so loading
this folder also checks that a game package's relative imports work.
"""

from retro.game import Game

from .agents import Ball, Paddle

WIDTH = 5
HEIGHT = 6
BALLS_PER_GAME = 10


def create_game():
    """Return a new game of Catch."""
    paddle = Paddle((WIDTH // 2, HEIGHT - 1))
    ball = Ball()
    game = Game(
        [paddle, ball],
        {"score": 0, "balls_left": BALLS_PER_GAME},
        board_size=(WIDTH, HEIGHT),
    )
    ball.drop(game)
    return game
