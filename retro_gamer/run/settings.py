"""Every setting of a training run, in one table: the ``Settings`` object.

A training run is a folder with a ``config.toml``. Its sections:

``[game]``           where the game comes from (a module name or a file path)
``[metadata]``       what the game is: its actions, reward key, characters, board size
``[preprocessing]``  what the agent sees: the board (whole, or a window around a
                     player), extra values read from the game's state
``[model]``          the shape of the Q-network
``[training]``       how the agent learns: the DQN's hyperparameters

The class ``Settings`` below is the single source of truth. Each of its
fields is one setting, declared once with ``setting(...)``: its section, its
kind, its default, one line of help, its range, and, for the settings a
checkpoint depends on, a ``why``. Code reads a run's settings as attributes
(``settings.epsilon_min``), so every use can be followed to the line here
that defines it. Everything else is generated from the same fields: the
comments written into config.toml (config_file.py), so the file teaches
what each setting does; the ``retro-gamer create`` options (cli.py); the
validation of a hand-edited file (validation.py); and the check at the
bottom of this file that a checkpoint still fits. A setting with a ``why``
is one the trained weights depend on (the network's shape, what its inputs
mean, the reward it learned to chase): changing it after training has
begun means starting fresh.

Values are plain Python values (``int``, ``float``, ``list``): tomlkit's own
``Float``/``Integer`` types subclass the Python ones, but numpy treats them
as float64 and would silently turn float32 arrays into float64 ones.
"""

import copy
from dataclasses import dataclass, field, fields, replace

SECTIONS = ("game", "metadata", "preprocessing", "model", "training")


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: where a setting lives, its type and default, what it does.

    ``kind`` is one of: ``int``, ``float``, ``bool``, ``str``, ``str_list``,
    ``int_list``, ``char_list`` (single characters), ``size_table`` (a table of
    key = positive length). ``minimum``/``maximum`` bound numbers (and list
    items); ``above_minimum`` makes the minimum exclusive. ``why`` is set for
    the settings the trained weights depend on: it is shown when a checkpoint
    no longer fits. A ``default`` of None means the setting must be given.
    """

    name: str
    section: str
    kind: str
    default: object
    help: str
    why: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False


def setting(section, kind, default, help, why=None, minimum=None, maximum=None, above_minimum=False):
    """A field of ``Settings`` that carries its row of the table (the row's name is the field's)."""
    row = Setting("", section, kind, default, help, why, minimum, maximum, above_minimum)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.copy(default), metadata={"setting": row})
    return field(default=default, metadata={"setting": row})


@dataclass(frozen=True)
class Settings:
    """A run's settings, checked: one read-only attribute per setting.

    Build one with ``validation.validate`` (or ``config_file.read_config``),
    which checks every value against its row first.
    """

    # [game]
    module: str = setting(
        "game", "str", None,
        "The game: an importable module name, or the path of a .py file or package folder.")
    factory: str = setting(
        "game", "str", "",
        "Optional 'module:function' that creates the game (default: the module's create_game).")
    # [metadata]
    actions: list[str] = setting(
        "metadata", "str_list", None,
        "The keys the agent may press; a no-op (pressing nothing) is always added last.",
        why="the actions the agent can take (changes output layer size)")
    reward: str = setting(
        "metadata", "str", None,
        "The game.state key whose change from turn to turn is the reward.",
        why="the signal the agent was trained to maximise")
    board_size: list[int] = setting(
        "metadata", "int_list", None,
        "The board's width and height, read from the game.",
        why="the size of the board (changes input layer size)", minimum=1)
    character_set: list[str] = setting(
        "metadata", "char_list", None,
        "The board characters the agent tells apart; any other character reads as empty.",
        why="the set of board characters (changes input layer size)")
    # [preprocessing]
    spatial: bool = setting(
        "preprocessing", "bool", False,
        "true: a convolutional network reads the board as an image; false: an MLP.",
        why="the kind of network (convolutional or MLP)")
    board: bool = setting(
        "preprocessing", "bool", True,
        "Whether the agent sees the board at all (false: only the observe_state values).",
        why="whether the board is part of the input (changes input layer size)")
    observe_state: list[str] = setting(
        "preprocessing", "str_list", [],
        "game.state keys whose values are appended to what the agent sees.",
        why="the state values the agent sees (changes input layer size)")
    observe_state_sizes: dict[str, int] = setting(
        "preprocessing", "size_table", {},
        "Optional lengths of list-valued observe_state keys, e.g. {velocity = 2}.",
        why="the lengths of the observed state values (changes input layer size)",
        minimum=1)
    egocentric: bool = setting(
        "preprocessing", "bool", False,
        "true: the agent sees a window centred on egocentric_player instead of the whole board.",
        why="whether the agent sees the whole board or a window (changes input layer size)")
    egocentric_player: str = setting(
        "preprocessing", "str", "",
        "The name of the agent the window is centred on.",
        why="the agent the window follows (changes what each input means)")
    egocentric_radius: int = setting(
        "preprocessing", "int", 2,
        "The window reaches this many cells from the player each way: (2r+1) x (2r+1).",
        why="the size of the window (changes input layer size)", minimum=1, maximum=50)
    # [model]
    hidden_sizes: list[int] = setting(
        "model", "int_list", [128, 64],
        "The hidden layers of the MLP head, from input to output.",
        why="the hidden layers of the network (changes the network's shape)",
        minimum=1, maximum=4096)
    conv_channels: list[int] = setting(
        "model", "int_list", [16, 32],
        "Channels of the 3x3 convolution layers, used when spatial = true.",
        why="the convolution layers (changes the network's shape)",
        minimum=1, maximum=512)
    # [training]
    learning_rate: float = setting(
        "training", "float", 0.0001,
        "Adam's step size: how far each learning step moves the weights.",
        minimum=0.0, maximum=1.0, above_minimum=True)
    gamma: float = setting(
        "training", "float", 0.99,
        "Discount factor: how much a reward one turn later is worth (0 to 1).",
        minimum=0.0, maximum=1.0)
    epsilon: float = setting(
        "training", "float", 1.0,
        "Exploration rate at the start: the chance of a random action.",
        minimum=0.0, maximum=1.0)
    epsilon_decay: float = setting(
        "training", "float", 0.99,
        "epsilon is multiplied by this after every episode (0.99 reaches 0.05 near episode 300).",
        minimum=0.0, maximum=1.0, above_minimum=True)
    epsilon_min: float = setting(
        "training", "float", 0.05,
        "epsilon never falls below this.",
        minimum=0.0, maximum=1.0)
    training_episodes: int = setting(
        "training", "int", 1000,
        "How many episodes to train in all; safe to increase and train again.",
        minimum=1)
    max_turns_per_episode: int = setting(
        "training", "int", 5000,
        "An episode longer than this is cut short (not counted as the game ending).",
        minimum=1)
    batch_size: int = setting(
        "training", "int", 64,
        "Transitions drawn from the replay memory for each learning step.",
        minimum=1, maximum=4096)
    memory_capacity: int = setting(
        "training", "int", 100000,
        "Transitions the replay memory keeps; the oldest are overwritten.",
        minimum=1, maximum=10_000_000)
    prioritize_experiences: bool = setting(
        "training", "bool", False,
        "true: replay surprising transitions more often (prioritized replay, Schaul et al. 2016).")
    target_update_freq: int = setting(
        "training", "int", 500,
        "Turns between copies of the online network into the target network.",
        minimum=1)
    train_every: int = setting(
        "training", "int", 2,
        "Turns between learning steps.",
        minimum=1)
    exploration_turns: int = setting(
        "training", "int", 1000,
        "Random turns played before learning starts (also used to discover characters).",
        minimum=0)
    learning_rate_decay: float = setting(
        "training", "float", 1.0,
        "The learning rate is multiplied by this after every episode (1.0: constant).",
        minimum=0.0, maximum=1.0, above_minimum=True)
    double_dqn: bool = setting(
        "training", "bool", True,
        "true: the online network picks the next action, the target network values it (van Hasselt et al. 2016).")
    n_step: int = setting(
        "training", "int", 3,
        "Rewards summed before bootstrapping from the target network (Sutton 1988; Hessel et al. 2018).",
        minimum=1, maximum=20)
    reward_scale: float = setting(
        "training", "float", 0.0,
        "Rewards are multiplied by this before learning; 0 = divide by the largest reward change seen so far.",
        minimum=0.0)
    max_grad_norm: float = setting(
        "training", "float", 10.0,
        "Gradients whose overall norm exceeds this are scaled down to it (0 = no clipping).",
        minimum=0.0)
    seed: int = setting(
        "training", "int", 0,
        "Seed of every random generator: the same seed gives the same run.",
        minimum=0, maximum=2**32 - 1)


SETTINGS = tuple(replace(item.metadata["setting"], name=item.name) for item in fields(Settings))
SETTINGS_BY_NAME = {row.name: row for row in SETTINGS}
PREPROCESSING_OPTIONS = tuple(row.name for row in SETTINGS if row.section == "preprocessing")
SHAPE_SETTINGS = tuple(row for row in SETTINGS if row.why is not None)

SECTION_COMMENTS = {
    "game": "Where the game comes from.",
    "metadata": "What the game is. Changing any of these means starting fresh (retro-gamer clean).",
    "preprocessing": "What the agent sees. Changing any of these means starting fresh (retro-gamer clean).",
    "model": "The shape of the Q-network. Changing it means starting fresh (retro-gamer clean).",
    "training": "How the agent learns. Safe to change between training sessions.",
}


def section_values(settings, section):
    """The settings of one section, in table order, as ``{name: value}``."""
    return {row.name: getattr(settings, row.name) for row in SETTINGS if row.section == section}


# --- does a checkpoint still fit? ---------------------------------------------

def shape_snapshot(settings):
    """The settings the weights depend on, as saved in every checkpoint."""
    return {row.name: getattr(settings, row.name) for row in SHAPE_SETTINGS}


def incompatible_changes(saved_snapshot, settings):
    """List ``(row, was, now)`` for each setting the weights depend on that changed."""
    changes = []
    for row in SHAPE_SETTINGS:
        if row.name not in saved_snapshot:
            continue
        was, now = saved_snapshot[row.name], getattr(settings, row.name)
        if row.name == "conv_channels" and not settings.spatial and not saved_snapshot.get("spatial"):
            continue  # an MLP run does not use conv_channels
        if was != now:
            changes.append((row, was, now))
    return changes


def incompatibility_message(checkpoint_file, changes, run_dir, action="resume from"):
    """The walkthrough's explanation of why a run must start fresh."""
    lines = [
        f"Cannot {action} {checkpoint_file}: incompatible changes detected in config.toml.",
        "",
        "The following changes require starting fresh. The existing model was",
        "trained on a different problem and its weights cannot be reused:",
        "",
    ]
    for setting, was, now in changes:
        lines += [
            f"  {setting.name}",
            f"    was : {was!r}",
            f"    now : {now!r}",
            f"    why : {setting.why}",
            "",
        ]
    lines += [
        f"Run 'retro-gamer clean {run_dir}' to remove existing checkpoints and the",
        f"training log, then run 'retro-gamer train {run_dir}' to start fresh.",
    ]
    return "\n".join(lines)
