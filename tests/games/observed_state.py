"""A game whose state holds one key for each observe_state case.

    "speed"    a number                                   (1 value)
    "alive"    a bool, which counts as a number           (1 value)
    "vec"      a list of 3 numbers that change each turn  (3 values)
    "name"     text: cannot be observed
    "history"  a list one item longer in every new game:  its length changes
               between episodes
    "trail"    a list one item longer after every turn:   its length changes
               within an episode
    "late"     set only from turn 1 on:                   missing at the start

retro-games 2.5.0 crashes on lists in the state given to Game(...), so list
values are assigned after the Game is built.
"""

from retro.game import Game

games_created = 0


class Ticker:
    character = "t"
    position = (0, 0)

    def play_turn(self, game):
        turn = game.turn_number
        game.state["vec"] = [turn, 2 * turn, 3 * turn]
        game.state["trail"] = game.state["trail"] + [turn]
        game.state["late"] = turn


def create_game():
    global games_created
    games_created += 1
    game = Game([Ticker()], {"score": 0, "speed": 0.5, "alive": True, "name": "rocket"},
                board_size=(3, 3))
    game.state["vec"] = [0, 0, 0]
    game.state["history"] = [0.0] * games_created
    game.state["trail"] = []
    return game
