"""``retro-gamer check``: what would go wrong with a game, found before training.

A game writer learns most of what is wrong with a game or its description
only after minutes of training and a flat curve. ``check`` finds it in a few
seconds: it loads the game and its description exactly as ``create`` does
(or reads a run folder's config.toml), plays a few seeded random episodes,
and says what it saw, as a list of findings, each with what to do.

The episodes are played, and watched, by ``random_play.py``: seeded, so two
checks of the same game print the same findings.

The findings come in three levels:

``problem``  training would stop with an error, or could learn nothing: the
             game crashes, the reward or an observed state key is missing
             or not a number, an observed key changes length, the reward
             never changes, no action changes anything.
``warning``  training runs, but worse than it could: an action that never
             changes the board or the state, a reward that changes in under
             1% of turns ("too sparse"), characters missing from
             character_set, episodes that never end, a game that does not
             repeat itself for the same seed.
``note``     worth knowing: listed characters never seen, players without
             a name, characters discovered instead of listed.

The exit code is 1 when there is a problem (with ``--strict``, a warning
too) and 0 otherwise, so a game's own CI can run ``retro-gamer check``.
"""

import json
import random
import time
from dataclasses import dataclass, field

import numpy as np

from retro_gamer.errors import GameCrashed, RetroGamerError
from retro_gamer.game.random_play import RandomPlay, episode_seed, load_subject, plural, replay_differs

DEFAULT_EPISODES = 20
DEFAULT_MAX_TURNS = 1000
# A reward that changes in fewer turns than this is "too sparse" (the walkthrough's words).
SPARSE_FRACTION = 0.01
# The same-seed episode is compared over at most this many turns.
REPLAY_TURNS = 200

PROBLEM, WARNING, NOTE = "problem", "warning", "note"
LEVELS = (PROBLEM, WARNING, NOTE)


@dataclass
class Finding:
    """One thing check found: how bad, about what, what it saw, what to do."""

    level: str
    topic: str
    text: str
    advice: str = ""
    details: str = ""  # the game author's traceback, for a crash


@dataclass
class Report:
    """What check saw (``facts``, label and text) and what it found."""

    game: str
    facts: list = field(default_factory=list)
    findings: list = field(default_factory=list)

    def add(self, level, topic, text, advice="", details=""):
        self.findings.append(Finding(level, topic, text, advice, details))

    def fact(self, label, text):
        self.facts.append((label, text))

    def count(self, level) -> int:
        return sum(1 for finding in self.findings if finding.level == level)

    def topics(self, level=None) -> list[str]:
        """The topics of the findings (of one level), for tests and scripts."""
        return [finding.topic for finding in self.findings if level in (None, finding.level)]

    def exit_code(self, strict=False) -> int:
        if self.count(PROBLEM) or (strict and self.count(WARNING)):
            return 1
        return 0

    def format(self) -> str:
        lines = [f"retro-gamer check: {self.game}"]
        width = max((len(label) for label, _ in self.facts), default=0)
        lines += [f"  {label.ljust(width)} : {text}" for label, text in self.facts]
        lines.append("")
        ordered = sorted(self.findings, key=lambda finding: LEVELS.index(finding.level))
        if ordered:
            lines.append("Findings:")
        for finding in ordered:
            text = finding.text.replace("\n", "\n    ")
            lines.append(f"  {finding.level}: {finding.topic}: {text}")
            if finding.advice:
                lines.append(f"    what to do: {finding.advice}")
            for detail_line in finding.details.rstrip().splitlines():
                lines.append(f"    | {detail_line}")
        if ordered:
            lines.append("")
        problems, warnings, notes = (self.count(level) for level in LEVELS)
        others = ", ".join(plural(n, word) for n, word in ((warnings, "warning"), (notes, "note")) if n)
        others = f" ({others})" if others else ""
        if problems:
            lines.append(f"{plural(problems, 'problem')} would stop training{others}.")
        else:
            lines.append(f"Nothing here would stop training{others}.")
        return "\n".join(lines)


def check_game(spec, episodes=DEFAULT_EPISODES, max_turns=DEFAULT_MAX_TURNS, seed=0) -> Report:
    """Check one game (or run folder); return the report (never raises a RetroGamerError)."""
    from retro_gamer.game.loading import new_game
    from retro_gamer.game.view_choice import find_players

    started = time.perf_counter()
    report = Report(str(spec))
    try:
        subject = load_subject(str(spec))
    except GameCrashed as crash:
        report.add(PROBLEM, "crash", str(crash), details=crash.details)
        return report
    except RetroGamerError as error:
        report.add(PROBLEM, "game", str(error))
        return report
    settings = subject.settings
    width, height = settings.board_size
    report.fact("read from", subject.origin)
    report.fact("board", f"{width} x {height}")
    report.fact("actions", ", ".join(settings.actions) + ", and the no-op")

    random.seed(episode_seed(seed, 0))
    try:
        players = find_players(new_game(subject.source))
    except GameCrashed as crash:
        report.add(PROBLEM, "crash", str(crash) + " (while creating the first game)", details=crash.details)
        return report
    except RetroGamerError as error:
        report.add(PROBLEM, "game", str(error))
        return report
    check_players(report, players, subject)
    subject.players = players
    # the same lines as create's summary (view_choice.ViewChoice)
    report.fact("view", subject.view.view_line())
    report.fact("network", subject.view.network_line())

    play = RandomPlay(subject, episodes, max_turns, seed)
    play.play()
    seconds = time.perf_counter() - started
    played = len(play.lengths)
    report.fact("random play", f"{played} of {episodes} episodes played (seed {seed}), at most {max_turns} "
                               f"turns each, in {seconds:.1f} s")
    report_crash(report, play)
    report_reward(report, play)
    report_episodes(report, play)
    report_characters(report, play)
    report_observation(report, play)
    if play.crash is None and play.reward_problem is None:
        report_actions(report, play)
        report_reproducibility(report, subject, seed, max_turns)
    else:
        report.add(NOTE, "check", "the checks that need whole episodes were skipped",
                   "fix the problem above and run check again")
    return report


# --- the findings ---------------------------------------------------------------------------

def check_players(report, players, subject):
    settings = subject.settings
    if not players:
        report.fact("player", "none (no agent has a handle_keystroke method)")
        report.add(PROBLEM, "player",
                   "no agent has a handle_keystroke method, so the keys the agent presses reach nobody",
                   "give the agent the player controls a handle_keystroke(self, keystroke, game) method")
        return
    shown = "; ".join(player.describe() for player in players)
    names = [player.name for player in players if player.name is not None]
    if len(names) == 1:
        shown += f": egocentric_player = {json.dumps(names[0], ensure_ascii=False)}"
    report.fact("player", shown)
    for player in players:
        if player.name is None:
            report.add(NOTE, "player", f"the player {player.kind} has no name, so an egocentric view "
                       "cannot follow it", f"give it a name, e.g. name = {json.dumps(player.kind.lower())}")
    if settings.egocentric and settings.egocentric_player not in names and names:
        report.add(NOTE, "player", f"the egocentric window follows {settings.egocentric_player!r}, "
                   f"which does not receive the keystrokes (the player is {names[0]!r})",
                   "make sure that is the agent the view should follow")


def report_crash(report, play):
    if play.crash is not None:
        crash, where = play.crash
        report.add(PROBLEM, "crash", f"{crash} ({where})",
                   "fix the game at the line shown; the same seed replays this episode "
                   f"(retro-gamer check --seed {play.seed})", details=crash.details)


def report_reward(report, play):
    key = play.settings.reward
    if play.reward_problem is not None:
        error, where = play.reward_problem
        report.add(PROBLEM, "reward", f"{error} ({where})")
        return
    rewards = play.turn_rewards
    if not rewards:
        return
    changed = sum(1 for reward in rewards if reward != 0)
    fraction = changed / len(rewards)
    report.fact("reward", f"{key!r}, {'a ' if play.reward_type != 'int' else 'an '}{play.reward_type}; "
                          f"per turn {min(rewards):+g} to {max(rewards):+g}, changed in {changed} of "
                          f"{len(rewards)} turns ({100 * fraction:.1f}%)")
    if play.totals:
        totals = play.totals
        report.fact("baseline", f"random play's total reward per episode: {np.mean(totals):+.2f} on "
                                f"average ({min(totals):+g} to {max(totals):+g}); a trained agent must beat it")
    others = [(other, count) for other, count in play.state_changes.most_common()
              if other != key and count > changed]
    alternatives = ", ".join(f"{other!r} ({100 * count / len(rewards):.0f}% of turns)" for other, count in others[:3])
    alternative_text = f"; state keys that change more often: {alternatives}" if alternatives else ""
    if changed == 0:
        report.add(PROBLEM, "reward", f"{key!r} never changed in {len(rewards)} turns of random play: "
                   "the agent would have nothing to learn from",
                   f"make the game change state[{key!r}] when the player does well or badly, or set "
                   f"reward to another state key{alternative_text}")
    elif fraction < SPARSE_FRACTION:
        report.add(WARNING, "reward", f"{key!r} changed in only {changed} of {len(rewards)} turns "
                   f"({100 * fraction:.2f}%): too sparse, learning will be slow",
                   "give a small reward on the way to the goal (the walkthrough's reward shaping), "
                   f"or use a key that changes more often{alternative_text}")


def report_episodes(report, play):
    lengths = play.lengths
    if not lengths:
        return
    ended = sum(play.ended)
    endless = len(lengths) - ended
    report.fact("episodes", f"{min(lengths)} to {max(lengths)} turns (mean {np.mean(lengths):.0f}); "
                            f"{ended} of {len(lengths)} ended by themselves")
    cap = play.settings.max_turns_per_episode
    if endless == len(lengths):
        report.add(WARNING, "episodes", f"no episode ended within {play.max_turns} turns: the game may "
                   f"never end by itself, and then max_turns_per_episode ({cap}) cuts every episode",
                   "call game.end() when the game is over (the player loses or wins); if it is meant "
                   "to go on for ever, choose max_turns_per_episode with care: the cut is not "
                   "counted as the game ending")
    elif endless:
        report.add(NOTE, "episodes", f"{endless} of {len(lengths)} episodes did not end within "
                   f"{play.max_turns} turns; in training, max_turns_per_episode ({cap}) cuts them")


def report_characters(report, play):
    listed = play.settings.character_set
    seen = sorted(character for character in play.characters if character != " ")
    report.fact("characters", "seen " + (" ".join(repr(c) for c in seen) if seen else "none")
                + f"; character_set {' '.join(repr(c) for c in listed) or '(none listed)'}")
    if play.subject.discovered:
        report.add(NOTE, "characters", "the description has no character_set: create lists the "
                   f"characters seen in {max(play.settings.exploration_turns, 1)} random turns",
                   f"write character_set = {toml_list(seen)} in [tool.retro-gamer] (the characters "
                   "seen here): characters that random play never reaches are missed otherwise")
        return
    missing = [character for character in seen if character not in listed]
    if missing:
        report.add(WARNING, "characters", f"seen on the board but not in character_set: "
                   f"{' '.join(repr(c) for c in missing)}; the agent sees them as empty cells",
                   "add them to character_set in [tool.retro-gamer], unless the agent need not "
                   "tell them from an empty cell")
    unseen = [character for character in listed if character not in play.characters]
    if unseen and play.lengths:
        report.add(NOTE, "characters", f"in character_set but never seen in random play: "
                   f"{' '.join(repr(c) for c in unseen)}",
                   "keep them if they appear only later in a game (random play may never get "
                   "there); otherwise remove them")


def toml_list(items):
    """``["a", "b"]``, as the items are written in a TOML file."""
    return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in items) + "]"


def report_observation(report, play):
    if play.observation_problem is not None:
        error, where = play.observation_problem
        report.add(PROBLEM, "view", f"{error} ({where})")
    watches = play.key_watch
    if watches:
        report.fact("observe_state", ", ".join(
            f"{key} ({watch.size if watch.size is not None else '?'} value"
            f"{'' if watch.size == 1 else 's'})" for key, watch in watches.items()))
    for key, watch in watches.items():
        if watch.problem:
            report.add(PROBLEM, "observe_state", f"{key!r} {watch.problem}")


def report_actions(report, play):
    actions = play.settings.actions
    if play.probe_problem is not None:
        report.add(NOTE, "actions", f"not tested: the game cannot be copied ({play.probe_problem})")
        return
    if not play.probed_turns or not play.subject.players:
        return  # without a player, the player finding says it already
    dead = [action for index, action in enumerate(actions) if index not in play.live_actions]
    tried = f"in {play.probed_turns} turns tried with every key"
    if len(dead) == len(actions):
        report.add(PROBLEM, "actions", f"no action ever changed the board or the state {tried}: the "
                   "agent cannot influence the game",
                   "list in actions the keys the player's handle_keystroke responds to")
    elif dead:
        report.add(WARNING, "actions", f"{', '.join(dead)} never changed the board or the state {tried}",
                   "only include actions the game responds to: remove "
                   f"{'it' if len(dead) == 1 else 'them'} from actions in [tool.retro-gamer]")


def report_reproducibility(report, subject, seed, max_turns):
    turn = replay_differs(subject, seed, min(max_turns, REPLAY_TURNS))
    if turn is None:
        report.fact("same seed", "the same episode twice (reproducible)")
        return
    report.fact("same seed", f"a different episode, from turn {turn} on")
    report.add(WARNING, "reproducibility", f"the same seed and the same actions gave a different "
               f"episode (the first difference on turn {turn}), so runs cannot be repeated",
               "draw randomness only from Python's random module (random.randint, random.choice); "
               "retro-gamer seeds it before each episode. A random.Random() of the game's own, numpy's "
               "generators, the clock or a set's order are not seeded")
