"""A training run folder: create it, look inside it, clean it.

``create`` turns a game and its ``[tool.retro-gamer]`` description into
``RUN_DIR/config.toml``. The values come, later ones winning, from:
config.py's defaults, the game's description (actions, reward, characters,
starting values for the preprocessing), what the game itself says (its board
size), and the command-line options. What none of them gives, ``create``
chooses: the view (``game/view_choice.py``) and, when the description sets no
``max_turns_per_episode``, the episode cap (from how long random games last
and how often they are rewarded) and the number of episodes with the
learning rate's decay over them (``choose_episodes`` below), and says so in
its summary.
"""

import math
import os
import random
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.config_file import CONFIG_FILE, config_path, read_config, write_new_config
from retro_gamer.run.lock import holding_run_lock
from retro_gamer.run.settings import SECTIONS, SETTINGS, SETTINGS_BY_NAME, section_values
from retro_gamer.run.validation import validate
from retro_gamer.errors import GameCrashed, GameError, RetroGamerError, shown
from retro_gamer.run.training_log import LOG_FILE_NAME, format_checkpoint_line, parse_log


# --- create --------------------------------------------------------------------

def create_run(game_spec, output, overrides):
    """``retro-gamer create``: write a commented config.toml and print a summary."""
    from retro_gamer.game.loading import load_game

    run_dir = Path(output)
    if config_path(run_dir).exists():
        raise RetroGamerError(
            f"{config_path(run_dir)} already exists. Choose another --output, edit that file, "
            f"or train it with 'retro-gamer train {shown(output)}'.")
    source = load_game(game_spec, overrides.get("factory", ""))
    new_run = game_settings(source, overrides)
    settings = new_run.settings
    width, height = settings.board_size
    _check_observation(settings, source)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_new_config(run_dir, settings)
    print(f"Created training run at {os.path.join(output, CONFIG_FILE)}")
    print(f"  game        : {source.display_name}")
    print(f"  board_size  : {width}×{height}")
    print(f"  actions     : {settings.actions}")
    print(f"  reward      : {settings.reward}")
    print(f"  characters  : {settings.character_set}"
          + (f" (seen in {max(settings.exploration_turns, 1)} random turns)" if new_run.discovered else ""))
    print(f"  architecture: {'CNN' if settings.spatial else 'MLP'}")
    for label, text in new_run.choices():
        print(f"  {label:<12}: {text}")
    return 0


@dataclass(frozen=True)
class NewRun:
    """What ``create`` gives a game, and what it chose itself.

    settings: the run's settings, validated.
    discovered: the description gave no character_set, so the characters
        were found by playing ``exploration_turns`` random turns.
    view: the view and its network (``view_choice.ViewChoice``), with why.
    episodes: the summary lines of ``choose_episodes`` (none when the
        description or the command line set the episode cap).
    """

    settings: object
    discovered: bool
    view: object
    episodes: list

    def choices(self) -> list[tuple[str, str]]:
        """The summary lines of what create chose, ``(label, text)``."""
        lines = []
        if self.view.chosen:
            lines += [("view", self.view.view_line()), ("network", self.view.network_line())]
        return lines + self.episodes


def game_settings(source, overrides) -> NewRun:
    """The settings ``create`` gives a game, and what it chose (``NewRun``)."""
    from retro_gamer.game.environment import discover_characters
    from retro_gamer.game.loading import new_game
    from retro_gamer.game.view_choice import choose_view, find_players

    game = new_game(source)
    width, height = game.board_size
    values = {"module": source.spec}
    values.update(source.description)
    values.update(overrides)
    view = choose_view(source.description, overrides, find_players(game), (width, height))
    values.update(view.settings())
    values["board_size"] = [int(width), int(height)]
    seed = values.get("seed", 0)
    discovered = "character_set" not in values
    if discovered:
        turns = values.get("exploration_turns", _default("exploration_turns"))
        random.seed(seed)
        values["character_set"] = discover_characters(
            source.factory, values["actions"], max(turns, 1), np.random.default_rng(seed))
    settings = validate(_by_section(values))  # a bad option is reported before the random games below
    episodes = []
    if "max_turns_per_episode" not in values:
        try:
            measured = _random_games(source, settings)
        except GameCrashed:  # training will meet the crash too, and report it
            episodes = [("max_turns", f"{_default('max_turns_per_episode')} turns a game (the default: the "
                                      "game crashed in random play; 'retro-gamer check' shows where)")]
        else:
            chosen, episodes = choose_episodes(measured, "training_episodes" in values,
                                               "learning_rate_decay" in values)
            settings = replace(settings, **chosen)
    return NewRun(settings, discovered, view, episodes)


# --- how long, and how many, episodes a new run plays -----------------------------

# Random games are measured over this many turns.
RANDOM_TURNS = 2000
# A game whose random play is rewarded on at least this share of its turns pays
# for the time survived (nav's score rises every turn the ship lives).
EVERY_TURN_SHARE = 0.5
# An episode is cut after this many times the mean length of a random game.
# A game that pays for the time survived gets the long cap, since the cap cuts
# its score: nav, 20 x 162 turns (at 8 x, its greedy agent, which lasts about
# 12 random games, would be stopped at 8).
EVERY_TURN_CAP_FACTOR = 20
# A game rewarded now and then (a beast crushed, a death, a goal reached) gets
# the short one: there a game that reaches the cap has avoided dying, and
# turns past it add little the first 8 random games' worth did not teach.
# Beast, 60 turns a random game: cut at 500 (700 episodes), its greedy agent
# scored 4.1, 4.2 and 2.5 above random play on seeds 0 to 2; cut at 1200 (1000
# episodes), 0.9 on seed 0 (docs/results.md).
EVENT_CAP_FACTOR = 8
# A game whose random games are long gets fewer episodes: about this many turns
# of random-length games (nav, about 160 turns a random game: 400 episodes).
EPISODE_BUDGET_TURNS = 60_000
# ... and at most this many: a trained agent's game lasts several random ones,
# and training should stay within minutes (beast's 700: about 9.5 minutes).
MOST_EPISODES = 700
# Over the episodes create chooses, the learning rate falls by a factor e^2.
LEARNING_RATE_FALL = 2.0


def round_up(number, step=100) -> int:
    """``number`` rounded up to a multiple of ``step``, and at least ``step``."""
    return max(step, int(math.ceil(number / step)) * step)


def choose_episodes(measured, episodes_given=False, decay_given=False):
    """The episode cap, and the number of episodes and the learning rate's decay
    unless given, for a game whose random play ``measured`` (``RandomGames``):
    ``({setting: value}, summary lines)``.

    The cap is a factor x the mean length of a random game, rounded up to 100,
    at most the table's default (5000): ``EVERY_TURN_CAP_FACTOR`` when random
    play is rewarded on at least ``EVERY_TURN_SHARE`` of its turns, else
    ``EVENT_CAP_FACTOR``. The episodes are ``EPISODE_BUDGET_TURNS`` / the mean,
    rounded up to 100, at most ``MOST_EPISODES``; the decay is
    ``learning_rate_decay_for`` those episodes.
    """
    mean_text = f"{measured.mean_length:.0f}"
    every_turn = measured.rewarded_share >= EVERY_TURN_SHARE
    factor = EVERY_TURN_CAP_FACTOR if every_turn else EVENT_CAP_FACTOR
    most = _default("max_turns_per_episode")
    cap = min(most, round_up(factor * measured.mean_length))
    chosen = {"max_turns_per_episode": cap}
    why = "the score grows with the time survived" if every_turn else "its score comes from events, not from time"
    lines = [("max_turns", f"{cap} turns a game ({factor} x the {mean_text} turns a random game lasts, rounded "
                           f"up to 100{f', at most {most}' if cap == most else ''}; random play is rewarded on "
                           f"{percent(measured.rewarded_share)} of its turns: {why})")]
    if episodes_given:
        return chosen, lines
    episodes = min(MOST_EPISODES, round_up(EPISODE_BUDGET_TURNS / measured.mean_length))
    chosen["training_episodes"] = episodes
    lines.append(("episodes", f"{episodes} (about {EPISODE_BUDGET_TURNS:,} turns of {mean_text}-turn games, "
                              f"rounded up to 100, at most {MOST_EPISODES})"))
    if not decay_given:
        decay = learning_rate_decay_for(episodes)
        chosen["learning_rate_decay"] = decay
        lines.append(("lr_decay", f"{decay} an episode (the learning rate falls to "
                                  f"{decay ** episodes:.1%} of its start by episode {episodes}: "
                                  "a steadier last checkpoint)"))
    return chosen, lines


def percent(share) -> str:
    """A share as a whole percentage, but a share under 1% as "under 1%" (never "0%" for some)."""
    return "under 1%" if 0 < share < 0.005 else f"{share:.0%}"


def learning_rate_decay_for(episodes):
    """The factor per episode that takes the learning rate to about e^-2 (13.5%) of its
    start over ``episodes``: exp(-2 / episodes), to 4 decimals (400 episodes: 0.995;
    700: 0.9971, which leaves 13.1%).

    A constant learning rate keeps moving the greedy policy to the end: on nav the
    last checkpoints of one run scored 7.3, 7.4, 10.6 and 5.9 times random play.
    Falling to 13.5%, the last checkpoint of nav scored 12.1 and 12.6 times random
    (seeds 0 and 1) against 9.3 and 6.6 (docs/results.md).
    """
    return round(math.exp(-LEARNING_RATE_FALL / episodes), 4)


def _random_games(source, settings):
    """``random_games`` of the game, seeded with the run's seed.

    When the reward key cannot be read, the rewards count as 0 here (the
    game is then "rewarded now and then"); ``train`` and ``check`` report the key.
    """
    from retro_gamer.game.environment import random_games

    def play(reward_key):
        random.seed(settings.seed)
        return random_games(source.factory, settings.actions, reward_key, RANDOM_TURNS,
                            np.random.default_rng(settings.seed))

    try:
        return play(settings.reward)
    except GameError:
        return play(None)


def _default(name):
    return SETTINGS_BY_NAME[name].default


def _by_section(values):
    """``{name: value}`` -> ``{section: {name: value}}``; unknown names go to [preprocessing]
    (where descriptions put their extra keys) so validation names them."""
    sections = {section: {} for section in SECTIONS}
    known = {s.name: s.section for s in SETTINGS}
    for name, value in values.items():
        sections[known.get(name, "preprocessing")][name] = value
    return sections


def _check_observation(settings, source):
    """Show the agent the first board of a game now, so mistakes show now, not after hours."""
    from retro_gamer.game.environment import Environment
    from retro_gamer.game.observation import make_observer

    environment = Environment(source.factory, settings.actions, settings.reward)
    environment.reset()
    observer = make_observer(settings)
    observer.start_episode(environment.game)
    observer.encode(environment.game, environment.drawn_cells)


# --- info ----------------------------------------------------------------------

def show_info(run_dir):
    """``retro-gamer info``: the settings, the last 5 log lines, the checkpoints."""
    settings = read_config(run_dir)
    model = section_values(settings, "model")
    if not settings.spatial:
        model.pop("conv_channels")
    print(f"Game module   : {settings.module}")
    print(f"Metadata      : {section_values(settings, 'metadata')}")
    print(f"Preprocessing : {section_values(settings, 'preprocessing')}")
    print(f"Model         : {model}")
    print(f"Training      : {section_values(settings, 'training')}")
    print()
    log_path = Path(run_dir) / LOG_FILE_NAME
    entries = parse_log(log_path.read_text(encoding="utf-8", errors="replace")).entries if log_path.exists() else []
    if entries:
        print(f"Last {min(5, len(entries))} checkpoints:")
        for entry in entries[-5:]:
            print(f"  {format_checkpoint_line(entry)}")
        print()
    names = [path.name for path in checkpoints.list_checkpoints(run_dir)]
    if not names:
        print(f"No checkpoints yet: run 'retro-gamer train {shown(run_dir)}' to start training.")
        return 0
    if len(names) > 4:
        listing = "[" + ", ".join(repr(name) for name in names[:2]) + f", ..., {names[-1]!r}]"
    else:
        listing = repr(names)
    print(f"Checkpoints ({len(names)}): {listing}")
    return 0


# --- clean ---------------------------------------------------------------------

@holding_run_lock("clean")
def clean_run(run_dir, assume_yes=False):
    """``retro-gamer clean``: remove checkpoints and training.log (never config.toml)."""
    read_config(run_dir)  # refuse to clean a folder that is not a training run
    run_dir = Path(run_dir)
    checkpoint_files = checkpoints.list_checkpoints(run_dir)
    folder = checkpoints.checkpoint_dir(run_dir)
    other_files = sorted(path for path in folder.iterdir()
                         if path not in checkpoint_files) if folder.is_dir() else []
    log_path = run_dir / LOG_FILE_NAME
    if not checkpoint_files and not other_files and not log_path.exists():
        print(f"Nothing to clean in {shown(run_dir)}: no checkpoints and no training log.")
        return 0
    log_words = " and training log" if log_path.exists() else ""
    print(f"Will remove {len(checkpoint_files)} checkpoint(s){log_words} from {shown(run_dir)}:")
    for path in checkpoint_files + other_files:
        print(f"  {checkpoints.CHECKPOINT_DIR}/{path.name}")
    if log_path.exists():
        print(f"  {LOG_FILE_NAME}")
    print()
    if not assume_yes:
        try:
            reply = input("Proceed? [y/N]: ")
        except EOFError:
            reply = ""
            print()
        if reply.strip().lower() not in ("y", "yes"):
            print("Nothing removed.")
            return 0
    for path in checkpoint_files + other_files:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if folder.is_dir():
        folder.rmdir()
    log_path.unlink(missing_ok=True)
    print(f"Cleaned. Run 'retro-gamer train {shown(run_dir)}' to start fresh.")
    return 0

