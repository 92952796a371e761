"""What did a beast agent learn? How its games end, greedy and at random, on the same games.

Beast (``retro.examples.beast``): the player pushes blocks; a beast crushed
between a block and anything else is +1, and a beast next to the player
(diagonals too) at the beast's turn kills it, -10. Beasts move on 3% of
their turns, towards the player.

For each game this plays the run's last checkpoint greedily (and, with
``--random``, uniformly random actions, the no-op included) and sorts how
the game ended, from the positions just before the last turn:

- reached the cap: the game was cut at ``max_turns_per_episode``, alive;
- walked into a beast: the chosen move's cell held a beast;
- a beast came next to it: a beast stood next to the player before its
  move (a beast had stepped up), split by whether a free cell out of every
  beast's reach was one step away (an empty cell, or staying put);
- stepped or stayed next to a beast: no beast was next to it before its move.

Also the beasts crushed a game and the mean score. Games are ``evaluate``'s
(seeded with ``--seed``), so greedy and random play meet the same boards.

    python benchmarks/beast_deaths.py runs/beast/ --games 100
    python benchmarks/beast_deaths.py runs/beast/ --games 100 --random
"""

import argparse
from collections import Counter

import numpy as np

from retro_gamer.game.environment import Environment
from retro_gamer.show.evaluate import seed_game
from retro_gamer.show.policy import load_policy

# The moves of KEY_RIGHT, KEY_UP, KEY_LEFT, KEY_DOWN (beast's description's order) and the no-op.
MOVES = [(1, 0), (0, -1), (-1, 0), (0, 1), (0, 0)]


def next_to(cell, other) -> bool:
    """Whether two cells touch, diagonals included."""
    return max(abs(cell[0] - other[0]), abs(cell[1] - other[1])) == 1


def safe_step_exists(game, player_cell, beast_cells) -> bool:
    """Whether staying or one step to an empty cell leaves the player out of every beast's reach."""
    occupied = game.get_agents_by_position()
    for dx, dy in MOVES:
        cell = (player_cell[0] + dx, player_cell[1] + dy)
        if (dx, dy) != (0, 0) and (cell in occupied or not game.on_board(cell)):
            continue
        if not any(cell == beast or next_to(cell, beast) for beast in beast_cells):
            return True
    return False


def how_it_ended(game, player_cell, beast_cells, action) -> str:
    """Why a game ended on this turn, from where the player and the beasts stood before it."""
    dx, dy = MOVES[action]
    if (player_cell[0] + dx, player_cell[1] + dy) in beast_cells:
        return "walked into a beast"
    safe = "a safe cell was one step away" if safe_step_exists(game, player_cell, beast_cells) else "no safe cell"
    if any(next_to(player_cell, beast) for beast in beast_cells):
        return f"a beast came next to it; {safe}"
    return f"stepped or stayed next to a beast; {safe}"


def play(policy, games, seed, random_play):
    """Play ``games`` of evaluate's games: (how each ended, counted; the mean score; beasts crushed a game)."""
    environment = Environment(policy.source.factory, policy.actions, policy.reward_key)
    observer = policy.observer
    rng = np.random.default_rng(seed)
    endings, scores, crushed = Counter(), [], 0
    for game_index in range(games):
        seed_game(seed, game_index)
        environment.reset()
        observer.start_episode(environment.game)
        done, turn, ending = False, 0, "reached the cap"
        while not done and turn < policy.max_turns:
            game = environment.game
            player_cell = game.get_agent_by_name("player").position
            beast_cells = [agent.position for agent in game.agents if getattr(agent, "character", "") == "H"]
            if random_play:
                action = int(rng.integers(environment.num_actions))
            else:
                board, state_values = observer.encode(game, environment.drawn_cells)
                action = policy.greedy_action(board, state_values)
            reward, done = environment.step(action)
            turn += 1
            if reward > 0:
                crushed += 1
            if done:
                ending = how_it_ended(game, player_cell, beast_cells, action)
        endings[ending] += 1
        scores.append(environment.game.state["score"])
    return endings, float(np.mean(scores)), crushed / games


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a beast run folder")
    parser.add_argument("--games", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="evaluate's seed (default: 0)")
    parser.add_argument("--random", action="store_true", help="random actions instead of the greedy policy")
    args = parser.parse_args()
    policy = load_policy(args.run)
    endings, mean_score, crushed = play(policy, args.games, args.seed, args.random)
    print(f"{'random play' if args.random else 'greedy'}: {args.games} games, at most {policy.max_turns} turns; "
          f"mean score {mean_score:+.2f}, beasts crushed a game {crushed:.2f}")
    for ending, count in endings.most_common():
        print(f"  {count:4d}  {ending}")


if __name__ == "__main__":
    main()
