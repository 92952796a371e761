"""How fast is a turn of Snake, and what share of it does the observation cost?

Random play on retro.examples.snake (32x16). For each observation setting it
times, separately, the game's own turn (Environment.step: the key press,
game.step() with HeadlessView drawing the board, the reward; episode resets
included) and the encoding of the board and state (Observer.encode). The goal
is an encoding that costs at most 25% of the game's own turn.

Run: python3 benchmarks/bench_env.py [turns]
Timings on a shared machine are noisy: the best of several rounds is shown.
"""

import random
import sys
import time

import numpy as np

from retro_gamer.environment import Environment
from retro_gamer.games import load_game
from retro_gamer.observation import Observer

SNAKE_CHARACTERS = ["@", "*", ">", "<", "^", "v"]
SETTINGS = {
    "game alone": None,
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
            observer.encode(environment.game, environment.board_characters)
            encode_seconds += time.perf_counter() - start
    return game_seconds, encode_seconds


def main():
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    rounds = 5
    source = load_game("retro.examples.snake")
    print(f"Snake, random play, {turns} turns, best of {rounds} rounds")
    print(f"{'setting':<30} {'turns/s':>9} {'game us/turn':>13} "
          f"{'encode us/turn':>15} {'share':>7}")
    for name, options in SETTINGS.items():
        best_game = best_encode = float("inf")
        for _ in range(rounds):
            game_seconds, encode_seconds = time_random_play(source, options, turns, seed=1)
            best_game = min(best_game, game_seconds)
            best_encode = min(best_encode, encode_seconds)
        turns_per_second = turns / (best_game + best_encode)
        game_micro = best_game / turns * 1e6
        encode_micro = best_encode / turns * 1e6
        share = f"{encode_micro / game_micro:6.0%}" if options is not None else "     -"
        encode_text = f"{encode_micro:15.2f}" if options is not None else f"{'-':>15}"
        print(f"{name:<30} {turns_per_second:9.0f} {game_micro:13.2f} {encode_text} {share}")


if __name__ == "__main__":
    main()
