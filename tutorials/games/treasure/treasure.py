"""Treasure: walk to the gold before the time runs out.

A small game written for the lesson "Writing your own game" (see
tutorials/06-your-own-game.md). The explorer ("@") walks one cell per turn
with the arrow keys on a board 9 wide and 7 tall. A piece of gold ("$")
lies somewhere on the board; walking onto it adds 1 to the score and a new
piece appears elsewhere. The game ends after 40 turns.

Play it yourself with ``python treasure.py``.

What retro-gamer needs from this file:

- ``create_game()``: no arguments, returns a new Game, called once per episode;
- a number in ``game.state`` that grows when the player does well (``score``);
- ``gold_dx`` and ``gold_dy`` in ``game.state``: where the gold is, seen from
  the explorer, as fractions of the board; they are set before the game
  starts and after every move, so an agent can be given them with
  ``observe_state``.
"""

from random import randint

from retro.game import Game

WIDTH = 9
HEIGHT = 7
TURNS_PER_GAME = 40
MOVES = {"KEY_RIGHT": (1, 0), "KEY_UP": (0, -1), "KEY_LEFT": (-1, 0), "KEY_DOWN": (0, 1)}


class Explorer:
    """The player. Moves one cell per arrow key; the board's edge stops it."""

    name = "explorer"
    character = "@"

    def __init__(self, position):
        self.position = position

    def handle_keystroke(self, keystroke, game):
        if keystroke.name not in MOVES:
            return
        dx, dy = MOVES[keystroke.name]
        x, y = self.position
        if game.on_board((x + dx, y + dy)):
            self.position = (x + dx, y + dy)

    def play_turn(self, game):
        gold = game.get_agent_by_name("gold")
        if gold.position == self.position:
            game.state["score"] += 1
            gold.move_away_from(self.position)
        update_gold_direction(game)
        game.state["turns_left"] -= 1
        if game.state["turns_left"] == 0:
            game.end()


class Gold:
    """The treasure. It sits still until it is found, then appears elsewhere."""

    name = "gold"
    character = "$"

    def __init__(self, position):
        self.position = position

    def move_away_from(self, explorer_position):
        """Jump to a random cell other than the explorer's."""
        while True:
            position = (randint(0, WIDTH - 1), randint(0, HEIGHT - 1))
            if position != explorer_position:
                self.position = position
                return


def update_gold_direction(game):
    """Where the gold is, seen from the explorer, as fractions of the board (-1 to 1)."""
    explorer_x, explorer_y = game.get_agent_by_name("explorer").position
    gold_x, gold_y = game.get_agent_by_name("gold").position
    game.state["gold_dx"] = (gold_x - explorer_x) / WIDTH
    game.state["gold_dy"] = (gold_y - explorer_y) / HEIGHT


def create_game():
    """Return a new game of Treasure: the explorer in the middle, the gold somewhere else."""
    explorer = Explorer((WIDTH // 2, HEIGHT // 2))
    gold = Gold((0, 0))
    gold.move_away_from(explorer.position)
    state = {"score": 0, "turns_left": TURNS_PER_GAME, "gold_dx": 0.0, "gold_dy": 0.0}
    game = Game([explorer, gold], state, board_size=(WIDTH, HEIGHT), framerate=6)
    update_gold_direction(game)
    return game


if __name__ == "__main__":
    create_game().play()
