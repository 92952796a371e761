"""Seeded random play of a game, watched turn by turn: what ``retro-gamer check`` reports on.

``RandomPlay`` plays episode ``i`` of ``--seed s`` with Python's ``random``
(which retro games draw from) seeded with ``episode_seed(s, i)`` and the
actions drawn uniformly, the no-op included, from a numpy generator seeded
the same way, so two checks of the same game see the same episodes. As it
plays it records what check needs: the reward key's values, episode
lengths, the characters on the board, each observed state key's length,
and the first exception the game raises, with its episode and turn.

Dead actions are found by trying (``probe_actions``): on some turns the game
is copied (``copy.deepcopy``) once per action, each copy plays one turn with
that key and the same random state, and an action whose board and state
after the turn always equal the no-op's never changed anything.
``replay_differs`` plays one episode twice with the same seed and says
whether the game repeated itself. ``load_subject`` loads the game with the
settings training would use: a run folder's config.toml, or what ``create``
would write.
"""

import copy
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retro_gamer.errors import GameCrashed, GameError, ObservationError, RetroGamerError
from retro_gamer.game.observation import Observer, numbers_in

# At most this many turns are probed for dead actions, spread over the episodes.
PROBE_TURNS = 100


def plural(count, word):
    return f"{count} {word}{'s' if count != 1 else ''}"


def episode_seed(seed: int, episode_index: int) -> int:
    """The seed of Python's ``random`` for one random episode of the check."""
    return (seed * 1_000_003 + episode_index) % 2**32


# --- loading the game as create (or a run folder) would ----------------------------------

@dataclass
class Subject:
    """The game under check: where it came from, its settings, its view."""

    source: object
    settings: object
    view: object
    discovered: bool
    origin: str
    players: list = field(default_factory=list)


def is_run_folder(spec) -> bool:
    path = Path(spec)
    return path.is_dir() and (path / "config.toml").is_file()


def load_subject(spec: str) -> Subject:
    """The game and the settings training would use: config.toml's for a run
    folder, else those ``create`` would write."""
    from retro_gamer.game.loading import load_game
    from retro_gamer.game.view_choice import ViewChoice
    from retro_gamer.run.config_file import read_config
    from retro_gamer.run.folder import game_settings

    if is_run_folder(spec):
        settings = read_config(spec)
        source = load_game(settings.module, settings.factory)
        return Subject(source, settings, ViewChoice.from_settings(settings), False,
                       f"the run folder's config.toml (game {settings.module})")
    source = load_game(spec)
    # Without a character_set, create would play exploration_turns random turns to
    # find the characters; check's own random play sees them (and any crash) anyway.
    discovered = "character_set" not in source.description
    new_run = game_settings(source, {"character_set": []} if discovered else {})
    return Subject(source, new_run.settings, new_run.view, discovered, f"description {source.description_path}")


# --- one turn, looked at --------------------------------------------------------------------

def board_snapshot(drawn_cells):
    """The drawn cells in a fixed order, to compare two boards."""
    return sorted(drawn_cells, key=lambda cell: (cell[0], cell[1]))


def turn_snapshot(game, drawn_cells):
    """What one turn left behind: the board and the state, comparable and frozen."""
    return board_snapshot(drawn_cells), repr(dict(game.state))


def probe_actions(environment, candidates):
    """The actions among ``candidates`` whose turn, played now on a copy of the
    game, leaves a board or a state different from the no-op's.

    Python's random state is the same for every copy and is restored after,
    so the real turn is not disturbed. Raises ``copy.Error``, ``TypeError``...
    when the game cannot be copied.
    """
    random_state = random.getstate()
    no_op = len(environment.actions)
    outcomes = {}
    try:
        for action in [no_op, *candidates]:
            random.setstate(random_state)
            twin = copy.deepcopy(environment.game)
            if action != no_op:
                twin.input_source.press(environment.actions[action])
            try:
                twin.step()
            except Exception:  # the real turn will raise it again, and report it
                return set()
            outcomes[action] = (turn_snapshot(twin, twin.view.drawn_cells), twin.playing)
    finally:
        random.setstate(random_state)
    return {action for action in candidates if outcomes[action] != outcomes[no_op]}


# --- the check itself ---------------------------------------------------------------------

@dataclass
class KeyWatch:
    """What was seen of one observe_state key: its first length and its first problem."""

    size: int | None = None
    problem: str | None = None


class RandomPlay:
    """Random episodes of one game, with everything check watches."""

    def __init__(self, subject, episodes, max_turns, seed):
        from retro_gamer.game.environment import Environment

        self.subject = subject
        self.settings = settings = subject.settings
        self.episodes, self.max_turns, self.seed = episodes, max_turns, seed
        self.environment = Environment(subject.source.factory, settings.actions, settings.reward)
        self.board_observer = Observer(
            settings.character_set, tuple(settings.board_size), board=settings.board,
            egocentric=settings.egocentric, egocentric_player=settings.egocentric_player,
            egocentric_radius=settings.egocentric_radius)
        self.observation_problem = None
        self.crash = None
        self.reward_problem = None
        self.lengths, self.ended, self.totals = [], [], []
        self.turn_rewards = []
        self.reward_type = None
        self.characters = set()
        self.live_actions = set()
        self.probed_turns = 0
        self.probe_problem = None
        self.key_watch = {key: KeyWatch(settings.observe_state_sizes.get(key)) for key in settings.observe_state}
        self.state_changes = Counter()

    # one episode ...................................................................

    def play(self):
        per_episode_probes = max(5, PROBE_TURNS // max(self.episodes, 1))
        for index in range(self.episodes):
            if not self.play_episode(index, per_episode_probes):
                return

    def play_episode(self, index, probes_left) -> bool:
        """One random episode; False when the check cannot go on (a crash, a bad reward)."""
        environment = self.environment
        random.seed(episode_seed(self.seed, index))
        rng = np.random.default_rng(episode_seed(self.seed, index))
        where = f"random episode {index + 1}, turn 0"
        if not self.guarded(environment.reset, where):
            return False
        game = environment.game
        self.reward_type = self.reward_type or type(game.state.get(self.settings.reward)).__name__
        self.observe(game, where, start=True)
        previous_state = dict(game.state)
        total, turn = 0.0, 0
        while not environment.done and turn < self.max_turns:
            action = int(rng.integers(environment.num_actions))
            unknown = [a for a in range(len(environment.actions)) if a not in self.live_actions]
            if unknown and probes_left > 0 and self.probe_problem is None and self.probed_turns < PROBE_TURNS:
                probes_left -= 1
                self.probe(unknown)
            turn += 1
            where = f"random episode {index + 1}, turn {turn}"
            result = self.guarded(lambda: environment.step(action), where)
            if not result:
                return False
            reward, _ = result
            total += reward
            self.turn_rewards.append(reward)
            self.observe(game, where, start=False)
            state = dict(game.state)
            for key, value in state.items():
                if numbers_in(value) is not None and previous_state.get(key) != value:
                    self.state_changes[key] += 1
            previous_state = state
        self.lengths.append(turn)
        self.ended.append(environment.done)
        self.totals.append(total)
        return True

    def guarded(self, call, where):
        """``call()``, with a crash or a bad reward recorded instead of raised (then None)."""
        try:
            return call() or True
        except GameCrashed as crash:
            self.crash = (crash, where)
        except GameError as error:
            self.reward_problem = (error, where)
        return None

    def probe(self, unknown):
        self.probed_turns += 1
        try:
            self.live_actions |= probe_actions(self.environment, unknown)
        except Exception as error:  # the game holds something that cannot be copied
            self.probe_problem = f"{type(error).__name__}: {error}"

    def observe(self, game, where, start):
        """Encode the board as training would, and watch the observed state keys."""
        drawn_cells = self.environment.drawn_cells
        self.characters.update(character for _, _, character in drawn_cells)
        if self.observation_problem is None:
            try:
                if start:
                    self.board_observer.start_episode(game)
                self.board_observer.encode(game, drawn_cells)
            except ObservationError as error:
                self.observation_problem = (error, where)
        for key, watch in self.key_watch.items():
            if watch.problem is None:
                watch.problem = key_problem(key, game.state, watch, where, start)


def key_problem(key, state, watch, where, start) -> str | None:
    """What is wrong with one observe_state key now, if anything (records its length)."""
    if key not in state:
        if start:
            return (f"is missing from game.state at the start ({where}); set it in create_game(), "
                    "before the game starts")
        return f"disappears from game.state ({where}); keep it in the state for the whole game"
    numbers = numbers_in(state[key])
    if not numbers:
        return (f"holds {state[key]!r} ({where}), not a number or a non-empty list of numbers; "
                "store a number, or remove the key from observe_state")
    if watch.size is None:
        watch.size = len(numbers)
    elif len(numbers) != watch.size:
        return (f"changes length: {plural(watch.size, 'value')} at first, {len(numbers)} at {where}; the "
                "network's input size is fixed when training begins: keep it one length (pad it)")
    return None


def replay_differs(subject, seed, max_turns):
    """Play random episode 1 twice with the same seed and the same actions; the
    first turn on which they differ (0: the first board), or None when they match.
    A crash stops the comparison (the main check reports it)."""
    from retro_gamer.game.environment import Environment

    settings = subject.settings
    recordings = []
    for _ in range(2):
        environment = Environment(subject.source.factory, settings.actions, settings.reward)
        random.seed(episode_seed(seed, 0))
        rng = np.random.default_rng(episode_seed(seed, 0))
        try:
            environment.reset()
            frames = [turn_snapshot(environment.game, environment.drawn_cells)]
            while not environment.done and len(frames) <= max_turns:
                reward, _ = environment.step(int(rng.integers(environment.num_actions)))
                frames.append((turn_snapshot(environment.game, environment.drawn_cells), reward))
        except RetroGamerError:
            return None
        recordings.append(frames)
    first, second = recordings
    for turn, (one, other) in enumerate(zip(first, second)):
        if one != other:
            return turn
    if len(first) != len(second):
        return min(len(first), len(second))
    return None
