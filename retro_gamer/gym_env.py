"""Any retro game as a Gymnasium environment, for every other RL library.

``pip install 'retro-gamer[gym]'`` brings Gymnasium; this is the only module
of retro-gamer that imports it. Importing it registers the id
``retro-gamer/RetroGame-v0``::

    import gymnasium
    import retro_gamer.gym_env  # registers retro-gamer/RetroGame-v0

    env = gymnasium.make("retro-gamer/RetroGame-v0", game="retro.examples.snake")
    observation, info = env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())

(``gymnasium.make("retro_gamer.gym_env:retro-gamer/RetroGame-v0", ...)``
imports this module by itself.)

``game`` takes what ``retro-gamer check`` takes: a module name, a ``.py``
file or a package folder (the settings are those ``create`` would write
from the game's description, with ``settings`` over them), or a run folder
(its config.toml). The environment is built from those settings exactly as
training builds its own (``Environment`` and ``make_observer``), so:

* the action space is ``Discrete(len(actions) + 1)``: action ``i`` presses
  ``actions[i]``, the last one presses nothing (the no-op);
* the observation is a ``Dict`` with what our agent sees: ``"board"``, the
  board codes (``uint8``, ``(height, width)``, 0 for an empty cell, ``i + 1``
  for ``character_set[i]``, the edge code past the board in an egocentric
  window; bounds ``0 .. num_codes``), present when the board is observed;
  ``"state"``, the ``observe_state`` values (``float32``), present when
  there are any. With ``board_encoding="one_hot"`` the board is the one-hot
  planes our network expands the codes into: ``(num_codes, height, width)``
  of 0 and 1, code 0 all zeros;
* the reward is the change of the reward key, as in training;
* ``terminated`` is true when the game ended (``game.end()``),
  ``truncated`` when ``max_turns_per_episode`` turns were played first.

Seeding. Retro games draw from Python's ``random``. Each environment keeps
a ``random`` state of its own and puts it in place only while its game runs
(creating the game, playing a turn), so it neither disturbs nor is
disturbed by other code, or other environments, that use ``random``.
``reset(seed=s)`` starts that state as ``random.seed(s)`` would, and later
resets without a seed continue it, as training does: an episode after
``reset(seed=s)`` is the episode our own ``Environment`` plays after
``random.seed(s)``.
"""

import random

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "retro-gamer/RetroGame-v0"
BOARD_ENCODINGS = ("codes", "one_hot")


def load_settings(game, settings=None):
    """``(source, settings)`` for a game spec or a run folder, as check reads them."""
    from retro_gamer.game.random_play import is_run_folder
    from retro_gamer.game.loading import load_game
    from retro_gamer.run.config_file import read_config
    from retro_gamer.run.folder import game_settings

    if is_run_folder(game):
        run_settings = read_config(game)
        if settings:
            from dataclasses import asdict

            from retro_gamer.run.validation import validate
            from retro_gamer.run.folder import _by_section

            values = asdict(run_settings)
            values.update(settings)
            run_settings = validate(_by_section(values))
        return load_game(run_settings.module, run_settings.factory), run_settings
    source = load_game(str(game), (settings or {}).get("factory", ""))
    return source, game_settings(source, dict(settings or {})).settings


class RetroGameEnv(gymnasium.Env):
    """One retro game, seen as our DQN agent sees it, behind Gymnasium's API.

    game: a module name, a .py file, a package folder or a run folder.
    settings: optional ``{setting name: value}`` over the description's (or
        the run's), e.g. ``{"egocentric": True, "egocentric_player": "ship"}``.
    render_mode: None or ``"ansi"`` (``render()`` returns the board as text).
    board_encoding: ``"codes"`` (default) or ``"one_hot"``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 12}

    def __init__(self, game, settings=None, render_mode=None, board_encoding="codes"):
        from retro_gamer.game.environment import Environment
        from retro_gamer.game.observation import make_observer

        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'ansi', not {render_mode!r}")
        if board_encoding not in BOARD_ENCODINGS:
            raise ValueError(f"board_encoding must be 'codes' or 'one_hot', not {board_encoding!r}")
        self.render_mode = render_mode
        self.board_encoding = board_encoding
        self.source, self.settings = load_settings(game, settings)
        self.max_turns = self.settings.max_turns_per_episode
        self.environment = Environment(self.source.factory, self.settings.actions, self.settings.reward)
        self.observer = make_observer(self.settings)
        self.game_random = random.Random(0).getstate()
        # The first game fixes the lengths of the observed state values, as in training.
        self.in_game_random(self.environment.reset)
        self.observer.start_episode(self.environment.game)
        self.layout = self.observer.layout
        self.action_space = spaces.Discrete(self.environment.num_actions)
        self.observation_space = self.make_observation_space()
        self.turn = 0
        self.episode_started = False

    def make_observation_space(self):
        observed = {}
        layout = self.layout
        if layout.board_shape is not None:
            if self.board_encoding == "codes":
                observed["board"] = spaces.Box(0, layout.num_codes, shape=layout.board_shape, dtype=np.uint8)
            else:
                observed["board"] = spaces.Box(0, 1, shape=(layout.num_codes, *layout.board_shape), dtype=np.uint8)
        if layout.state_size:
            observed["state"] = spaces.Box(-np.inf, np.inf, shape=(layout.state_size,), dtype=np.float32)
        return spaces.Dict(observed)

    def in_game_random(self, call):
        """Run ``call()`` with this environment's own state of Python's ``random``."""
        outside = random.getstate()
        random.setstate(self.game_random)
        try:
            return call()
        finally:
            self.game_random = random.getstate()
            random.setstate(outside)

    def observation(self):
        board_codes, state_values = self.observer.encode(self.environment.game, self.environment.drawn_cells)
        observed = {}
        if self.layout.board_shape is not None:
            if self.board_encoding == "codes":
                observed["board"] = board_codes
            else:
                planes = np.arange(1, self.layout.num_codes + 1, dtype=np.uint8)[:, None, None]
                observed["board"] = (board_codes[None, :, :] == planes).astype(np.uint8)
        if self.layout.state_size:
            observed["state"] = state_values
        return observed

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.game_random = random.Random(seed).getstate()
        elif not self.episode_started:
            # No seed ever given: start the game's random from Gymnasium's generator.
            self.game_random = random.Random(int(self.np_random.integers(2**63))).getstate()
        self.episode_started = True
        self.in_game_random(self.environment.reset)
        self.observer.start_episode(self.environment.game)
        self.turn = 0
        return self.observation(), {"turn": 0}

    def step(self, action):
        if not self.episode_started:
            raise RuntimeError("call reset() before step()")
        reward, game_over = self.in_game_random(lambda: self.environment.step(int(action)))
        self.turn += 1
        truncated = not game_over and self.turn >= self.max_turns
        return self.observation(), float(reward), bool(game_over), bool(truncated), {"turn": self.turn}

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() needs render_mode='ansi', e.g. "
                                  f"gymnasium.make({ENV_ID!r}, game=..., render_mode='ansi')")
            return None
        rows = ["".join(row) for row in self.environment.board_characters]
        width = len(rows[0]) if rows else 0
        lines = ["+" + "-" * width + "+", *(f"|{row}|" for row in rows), "+" + "-" * width + "+"]
        state = self.environment.game.state
        lines += [f"{key}: {state[key]}" for key in state]
        return "\n".join(lines) + "\n"

    def close(self):
        pass


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="retro_gamer.gym_env:RetroGameEnv")
