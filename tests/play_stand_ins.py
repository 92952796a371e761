"""Stand-ins for a trained policy and its environment, for the play tests.

Imported by tests/test_play.py, and run as a script by its pseudo-terminal
tests: ``python play_stand_ins.py FRAMERATE EPISODES apple|straight`` plays
Snake on the real terminal with the fake policy.
"""
import sys

import numpy as np
from retro.examples import snake

from retro_gamer.game.environment import Environment

SNAKE_ACTIONS = ["KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"]


def snake_environment():
    return Environment(snake.create_game, SNAKE_ACTIONS, "score")


class AppleObserver:
    def start_episode(self, game):
        self.started = True

    def encode(self, game, drawn_cells):
        apple_direction = [game.state["apple_dx"], game.state["apple_dy"]]
        return np.zeros((1, 1), np.uint8), np.array(apple_direction, np.float32)


class FakePolicy:
    """Scores the actions by how far they lead towards the apple, or, when
    ``straight``, always prefers the no-op (so the snake soon hits a wall)."""

    actions = SNAKE_ACTIONS
    checkpoint_name = "ep_0042"
    reward_key = "score"

    def __init__(self, straight=False):
        self.straight = straight
        self.observer = AppleObserver()

    def q_values(self, board_codes, state_values):
        if self.straight:
            return np.array([0.0, 0.5, -0.5, 0.25, 1.0], np.float32)
        apple_dx, apple_dy = state_values
        return np.array([apple_dx, -apple_dy, -apple_dx, apple_dy, 0.0], np.float32)

    def greedy_action(self, board_codes, state_values):
        return int(np.argmax(self.q_values(board_codes, state_values)))


def main():
    from retro_gamer.errors import RetroGamerError
    from retro_gamer.show.play import watch
    from retro_gamer.show.terminal import Screen

    framerate, episodes, straight = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "straight"
    try:
        watch(FakePolicy(straight), snake_environment(), Screen(), framerate=framerate, episodes=episodes)
    except RetroGamerError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
