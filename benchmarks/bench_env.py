"""How fast is a turn of Snake, and what share of it does the observation cost?

Random play on retro.examples.snake (32x16). For each observation setting it
times, separately, the game's own turn (Environment.step: the key press,
game.step() with a view drawing the board, the reward; episode resets
included) and the encoding of the board and state (Observer.encode). The goal
is an encoding that costs at most 25% of the game's own turn.

The game's own turn is timed twice: with retro-games' HeadlessView (rows of
characters, the way retro-games runs a game without a screen) and with our
BoardView (only the occupied cells), which training uses. The share is
given against both.

Run: python3 benchmarks/bench_env.py [turns]
Timings on a shared machine are noisy: the best of several rounds is shown.
"""

import random
import sys
import time

import numpy as np
from retro.views.headless import HeadlessView

from retro_gamer.game import environment as environment_module
from retro_gamer.game.environment import BoardView, Environment
from retro_gamer.game.loading import load_game
from retro_gamer.game.observation import Observer

SNAKE_CHARACTERS = ["@", "*", ">", "<", "^", "v"]
SETTINGS = {
    "game alone, HeadlessView": None,
    "game alone, BoardView": None,
    "full board": dict(),
    "egocentric r=2 + apple_dx/dy": dict(
        observe_state=["apple_dx", "apple_dy"],
        egocentric=True,
        egocentric_player="Snake head",
        egocentric_radius=2,
    ),
}


def time_random_play(source, observer_options, turns, seed):
    """Seconds spent in the game's turns and in encoding, over ``turns`` turns."""
    random.seed(seed)
    rng = np.random.default_rng(seed)
    environment = Environment(source, source.description["actions"], "score")
    observer = None
    if observer_options is not None:
        observer = Observer(SNAKE_CHARACTERS, (32, 16), **observer_options)
    actions = rng.integers(environment.num_actions, size=turns).tolist()
    game_seconds = encode_seconds = 0.0
    done = True
    for action in actions:
        start = time.perf_counter()
        if done:
            environment.reset()
        _, done = environment.step(action)
        game_seconds += time.perf_counter() - start
        if observer is not None:
            start = time.perf_counter()
            if environment.turn == 1:
                observer.start_episode(environment.game)
            observer.encode(environment.game, environment.drawn_cells)
            encode_seconds += time.perf_counter() - start
    return game_seconds, encode_seconds


def main():
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    rounds = 5
    source = load_game("retro.examples.snake")
    print(f"Snake, random play, {turns} turns, best of {rounds} rounds")
    print(f"{'setting':<30} {'turns/s':>9} {'game us/turn':>13} {'encode us/turn':>15} "
          f"{'share (Headless)':>17} {'share (BoardView)':>18}")
    game_micro_by_view = {}
    for name, options in SETTINGS.items():
        # The same Environment, with retro-games' own view for the first row.
        environment_module.BoardView = HeadlessView if "HeadlessView" in name else BoardView
        best_game = best_encode = float("inf")
        for _ in range(rounds):
            game_seconds, encode_seconds = time_random_play(source, options, turns, seed=1)
            best_game = min(best_game, game_seconds)
            best_encode = min(best_encode, encode_seconds)
        turns_per_second = turns / (best_game + best_encode)
        game_micro = best_game / turns * 1e6
        encode_micro = best_encode / turns * 1e6
        if options is None:
            game_micro_by_view[name] = game_micro
            print(f"{name:<30} {turns_per_second:9.0f} {game_micro:13.2f} {'-':>15} {'-':>17} {'-':>18}")
            continue
        headless_share = encode_micro / game_micro_by_view["game alone, HeadlessView"]
        board_view_share = encode_micro / game_micro_by_view["game alone, BoardView"]
        print(f"{name:<30} {turns_per_second:9.0f} {game_micro:13.2f} {encode_micro:15.2f} "
              f"{headless_share:17.0%} {board_view_share:18.0%}")
    environment_module.BoardView = BoardView


if __name__ == "__main__":
    main()
