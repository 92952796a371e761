"""The ``retro-gamer`` command line: one small function per subcommand.

Each subcommand imports what it needs only when it runs, so that
``retro-gamer --help`` answers at once without loading numpy.

Every failure a user can cause is a ``RetroGamerError``: ``main`` prints its
message on stderr and returns its exit code (2 for a bad configuration or
bad arguments, 1 otherwise, 130 when interrupted). A game that crashes is the
game author's bug, so their traceback is shown.
"""

import argparse
import sys

from retro_gamer import __version__
from retro_gamer.errors import ConfigError, GameCrashed, RetroGamerError

DESCRIPTION = """\
Train Deep Q-Network agents to play retro-games terminal games.

A typical session:
  retro-gamer check retro.examples.snake      # what would go wrong, before training
  retro-gamer create --game retro.examples.snake --output runs/snake/
  retro-gamer train runs/snake/        # Ctrl-C to stop; run again to resume
  retro-gamer play runs/snake/         # watch the agent (Enter or Escape quits)
  retro-gamer evaluate runs/snake/     # measure it against random play
  retro-gamer plot runs/snake/         # the learning curves from training.log

Comparing settings honestly (several seeds, confidence intervals):
  retro-gamer sweep create --game retro.examples.snake --output sweeps/nstep/ --seeds 0,1,2 --vary n_step=1,3
  retro-gamer sweep train sweeps/nstep/  # every core; Ctrl-C and run again to resume
  retro-gamer evaluate sweeps/nstep/     # IQM and 95% intervals per variant
"""

INTERRUPTED = 130


# --- turning a setting of the config table into a command-line option --------

def _parse_list(text, item_type, name):
    items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        return [item_type(item) for item in items]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} takes a comma-separated list, like 128,64") from None


def _parse_size_table(text):
    sizes = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        key, equals, size = pair.partition("=")
        if not equals or not size.strip().isdigit():
            raise argparse.ArgumentTypeError(f"expected KEY=LENGTH pairs like velocity=2, got {pair!r}")
        sizes[key.strip()] = int(size)
    return sizes


def _option_type(setting):
    """The argparse ``type`` that turns an option's text into the setting's value."""
    if setting.kind == "int":
        return int
    if setting.kind == "float":
        return float
    if setting.kind == "int_list":
        return lambda text: _parse_list(text, int, setting.name)
    if setting.kind == "str_list":
        return lambda text: _parse_list(text, str, setting.name)
    if setting.kind == "char_list":
        return list
    if setting.kind == "size_table":
        return _parse_size_table
    return str


def _option_help(setting):
    text = setting.help.replace("%", "%%")
    if setting.kind == "int_list":
        text += " Comma-separated, e.g. 128,64."
    elif setting.kind == "str_list":
        text += " Comma-separated."
    elif setting.kind == "char_list":
        text += " The characters written together, e.g. '@*><^v'."
    elif setting.kind == "size_table":
        text += " KEY=LENGTH pairs, comma-separated."
    if setting.default not in (None, "", [], {}):
        text += f" (default: {setting.default})"
    return text


def add_setting_options(parser):
    """One option per setting of the settings table, run/settings.py (those a user chooses)."""
    from retro_gamer.run.settings import SETTINGS

    groups = {}
    for setting in SETTINGS:
        if setting.name in ("module", "board_size"):
            continue
        section = setting.section
        if section not in groups:
            groups[section] = parser.add_argument_group(f"[{section}] settings (written to config.toml)")
        flag = "--" + setting.name.replace("_", "-")
        if setting.kind == "bool":
            groups[section].add_argument(flag, dest=setting.name, action=argparse.BooleanOptionalAction,
                                         default=None, help=_option_help(setting))
        else:
            groups[section].add_argument(flag, dest=setting.name, type=_option_type(setting), default=None,
                                         metavar=setting.name.upper(), help=_option_help(setting))


# --- the parser ---------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr with a hint, exit 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nRun '{self.prog} --help' for more.\n")


def add_run_command(commands, name, run, help, description, **parser_options):
    """The subcommand ``retro-gamer NAME RUN_DIR``, carried out by ``run(args)``."""
    command = commands.add_parser(name, help=help, description=description, **parser_options)
    command.add_argument("run_dir", metavar="RUN_DIR")
    command.set_defaults(run=run)
    return command


def build_parser():
    from retro_gamer.show.plot import METRICS

    parser = _Parser(prog="retro-gamer", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"retro-gamer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    create = commands.add_parser(
        "create", help="start a training run: read the game, write RUN_DIR/config.toml",
        description="Read a game and its [tool.retro-gamer] description and write RUN_DIR/config.toml, "
                    "with every setting commented. Options below override the defaults and the "
                    "description; you can also edit config.toml afterwards.")
    create.add_argument("--game", required=True, metavar="GAME",
                        help="a module name (retro.examples.snake), a .py file, or a package folder")
    create.add_argument("--output", required=True, metavar="RUN_DIR",
                        help="the folder for this run (created if needed; must not hold a run already)")
    add_setting_options(create)
    create.set_defaults(run=run_create)

    add_run_command(
        commands, "train", run_train, help="train the agent; resumes from the latest checkpoint",
        description="Train the agent described by RUN_DIR/config.toml. Saves checkpoints/ep_NNNN.npz every "
                    "100 episodes and writes training.log. Ctrl-C stops after the current episode and saves a "
                    "checkpoint (press twice to stop at once); run the same command again to resume.")

    play = add_run_command(
        commands, "play", run_play, help="watch the trained agent play in the terminal",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The agent plays a fresh game in the terminal, its Q-values beside the board.\n"
                    "Enter or Escape quits. With an egocentric view (a window around the player),\n"
                    "o outlines the cells the network sees; the panel names its input channels.",
        epilog="recording:\n"
               "  --record game.cast keeps what the screen shows as an asciicast v2 file;\n"
               "  'asciinema play game.cast' plays it back, asciinema-player shows it on a web page.\n"
               "  In a terminal you watch while it records, with real timing. Without a terminal,\n"
               "  or with --size, nothing is shown and nothing waits: the games are drawn into the\n"
               "  file only, timed at the game's framerate. On a server or in a script:\n"
               "    retro-gamer play runs/snake/ --record snake.cast --size 100x30 --episodes 3")
    play.add_argument("--checkpoint", metavar="NAME", help="e.g. ep_0100 (default: the latest)")
    play.add_argument("--framerate", type=_positive_int, metavar="N", help="turns per second (default: the game's)")
    play.add_argument("--episodes", type=_positive_int, default=1, metavar="N", help="games to play in a row (default: 1)")
    play.add_argument("--seed", type=int, metavar="N",
                      help="play the same games as 'evaluate --seed N' (default: new games each time)")
    play.add_argument("--record", metavar="FILE.cast",
                      help="also write what the screen shows to FILE.cast (asciicast v2), written when play ends")
    play.add_argument("--size", type=_size, metavar="COLUMNSxLINES",
                      help="record without a terminal, at this size, e.g. 100x30 (needs --record; "
                           "default without a terminal: just big enough)")

    add_run_command(
        commands, "info", run_info, help="show a run's settings and recent progress",
        description="Print the configuration, the last 5 checkpoint lines of training.log and the checkpoints.")

    clean = add_run_command(
        commands, "clean", run_clean, help="remove a run's checkpoints and log (config.toml is kept)",
        description="Remove the checkpoints and training.log so the next 'train' starts fresh. "
                    "config.toml is always kept.")
    clean.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    evaluate = add_run_command(
        commands, "evaluate", run_evaluate, help="measure the greedy agent against random play",
        description="Play N headless games with the greedy policy and with a random policy; print the "
                    "statistics side by side. Given a sweep folder (made by 'retro-gamer sweep create'), "
                    "every run plays the same N games and each variant gets one row: mean, median and "
                    "interquartile mean of its seeds x games scores, with 95% bootstrap intervals over "
                    "seeds, and random play as the baseline row.")
    evaluate.add_argument("--checkpoint", metavar="NAME", help="e.g. ep_0500 (default: the latest)")
    evaluate.add_argument("--episodes", type=_positive_int, default=100, metavar="N", help="games per policy (default: 100)")
    evaluate.add_argument("--seed", type=int, default=0, metavar="N", help="seed for the games (default: 0)")
    evaluate.add_argument("--all-checkpoints", action="store_true", help="one row per checkpoint")
    evaluate.add_argument("--record-best", metavar="FILE.cast",
                          help="record the greedy game with the highest total reward (asciicast v2)")
    evaluate.add_argument("--record-worst", metavar="FILE.cast",
                          help="record the greedy game with the lowest total reward, to see where the agent fails")
    evaluate.add_argument("--size", type=_size, metavar="COLUMNSxLINES",
                          help="the recordings' size, e.g. 100x30 (default: just big enough)")
    evaluate.add_argument("--json", action="store_true",
                          help="for a sweep folder: print the numbers (and every game's score) as JSON")

    plot = commands.add_parser(
        "plot", help="draw learning curves from training.log",
        description="Draw avg_reward, avg_steps, avg_loss and epsilon against episode, in the terminal or "
                    "as an SVG file. Several runs are overlaid. Given one sweep folder, each variant is drawn "
                    "as the mean across its seeds with a shaded 95% bootstrap interval.")
    plot.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    plot.add_argument("--metric", choices=METRICS, help="draw only this panel")
    plot.add_argument("--output", metavar="FILE.svg", help="write an SVG file instead of drawing in the terminal")
    plot.add_argument("--width", type=_positive_int, metavar="N", help="columns (default: the terminal's width)")
    plot.set_defaults(run=run_plot)

    check = commands.add_parser(
        "check", help="find what would go wrong with a game before training it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=CHECK_DESCRIPTION)
    check.add_argument("game", metavar="GAME",
                       help="a module name (retro.examples.snake), a .py file, a package folder, "
                            "or a run folder (its config.toml is checked)")
    check.add_argument("--episodes", type=_positive_int, default=20, metavar="N",
                       help="random episodes to play (default: 20)")
    check.add_argument("--max-turns", type=_positive_int, default=1000, metavar="N",
                       help="turns after which an episode counts as not ending (default: 1000)")
    check.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed of the random episodes; the same seed, the same findings (default: 0)")
    check.add_argument("--strict", action="store_true",
                       help="exit 1 on warnings too, not only on problems")
    check.set_defaults(run=run_check)
    add_sweep_commands(commands)
    return parser


CHECK_DESCRIPTION = """\
Load a game and its [tool.retro-gamer] description as 'create' would, play a few
seeded random episodes, and list what would go wrong in training, each finding
with what to do:

  actions        keys that never change the board or the state
  reward         its type and range, how often it changes (under 1% of turns is
                 too sparse), and random play's total per episode: the baseline
  episodes       their lengths; games that never end by themselves
  characters     seen on the board but missing from character_set, and listed
                 ones never seen
  player         the agent that gets the keystrokes, its name for
                 egocentric_player, and the view create would choose
  observe_state  keys missing at the start, not numbers, changing length
  same seed      whether the same seed gives the same episode
  crash          the game's own exception, with its traceback, episode and turn

A problem would stop training (or leave nothing to learn); a warning makes it
worse than it could be; a note is worth knowing.

exit codes: 0 nothing would stop training, 1 a problem was found (with
--strict: or a warning), 2 bad arguments.

examples:
  retro-gamer check retro.examples.snake
  retro-gamer check my_game.py --episodes 50
  retro-gamer check runs/snake/
"""


def _size(text):
    """``100x30`` -> (100, 30): columns, then lines."""
    columns, times, lines = text.lower().partition("x")
    if not (times and columns.strip().isdigit() and lines.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"expected COLUMNSxLINES, like 100x30, got {text!r}")
    size = int(columns), int(lines)
    if min(size) < 1:
        raise argparse.ArgumentTypeError(f"columns and lines must be at least 1, got {text!r}")
    return size


SWEEP_DESCRIPTION = """\
Run the same experiment on several seeds and several settings, as ordinary run
folders, and compare the variants with confidence intervals.

  retro-gamer sweep create --game retro.examples.snake --output sweeps/nstep/ \\
      --seeds 0,1,2 --vary n_step=1,3
  retro-gamer sweep train sweeps/nstep/ --jobs 2
  retro-gamer evaluate sweeps/nstep/
  retro-gamer plot sweeps/nstep/

Each run (sweeps/nstep/n_step=1/seed0/ ...) is a normal run folder: train,
play, info, evaluate and clean work on it. sweeps/nstep/commands.txt lists one
'retro-gamer train RUN_DIR' per run, for GNU parallel or a cluster's job array
(docs/experiments.md).
"""


def add_sweep_commands(commands):
    sweep = commands.add_parser(
        "sweep", help="several seeds x several settings: create, train on every core, compare",
        description=SWEEP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = sweep.add_subparsers(dest="sweep_command", metavar="ACTION", parser_class=_Parser)
    sweep.set_defaults(run=lambda args: sweep.print_help() or 0)

    create = actions.add_parser(
        "create", help="write SWEEP_DIR/sweep.toml, one run folder per variant and seed, commands.txt",
        description="Write the plan SWEEP_DIR/sweep.toml (readable and editable), one run folder per "
                    "variant and seed (SWEEP_DIR/VARIANT/seedN/), and SWEEP_DIR/commands.txt. The variants "
                    "are a grid (--vary, every combination) or one change at a time beside the "
                    "default (--ablate). Setting options below apply to every run.")
    create.add_argument("--game", required=True, metavar="GAME",
                        help="a module name (retro.examples.snake), a .py file, or a package folder")
    create.add_argument("--output", required=True, metavar="SWEEP_DIR", help="the folder of the sweep")
    create.add_argument("--seeds", default="0,1,2", metavar="LIST",
                        help="the seeds of every variant: 0,1,2 or a range 0-4 (default: 0,1,2; "
                             "fewer than 3 cannot show a spread)")
    create.add_argument("--vary", action="append", default=[], metavar="NAME=V1,V2",
                        help="a setting of the grid and its values, e.g. --vary n_step=1,3 (repeat for "
                             "more settings). For settings that are lists, separate the values with '/': "
                             "--vary hidden_sizes=64/128,64")
    create.add_argument("--ablate", action="append", default=[], metavar="NAME=VALUE",
                        help="a variant that changes one setting of the default, e.g. --ablate "
                             "double_dqn=false (repeat for more variants; 'a=1;b=2' changes two)")
    add_setting_options(create)
    create.set_defaults(run=run_sweep_create)

    update = actions.add_parser(
        "update", help="after editing sweep.toml: create the new runs, rewrite commands.txt",
        description="Create the run folders sweep.toml plans and SWEEP_DIR lacks (after you added a seed "
                    "or a value), and rewrite commands.txt. Runs that exist are left as they are.")
    update.add_argument("sweep_dir", metavar="SWEEP_DIR")
    update.set_defaults(run=run_sweep_update)

    train = actions.add_parser(
        "train", help="train every run, N at a time, each in its own process",
        description="Train every run of the sweep that is not finished, --jobs at a time, each as its own "
                    "'retro-gamer train RUN_DIR' process with one BLAS thread (a run trained here is the "
                    "same as one trained alone). One bar shows the whole sweep; each run's output goes "
                    "to SWEEP_DIR/output/. Ctrl-C stops every run at the end of its episode with a "
                    "checkpoint; the same command again resumes them all.")
    train.add_argument("sweep_dir", metavar="SWEEP_DIR")
    train.add_argument("--jobs", "-j", type=_positive_int, metavar="N",
                       help="runs trained at once (default: the cores available to this process)")
    train.set_defaults(run=run_sweep_train)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# --- the subcommands ------------------------------------------------------------

def run_create(args):
    from retro_gamer.run.settings import SETTINGS
    from retro_gamer.run.folder import create_run

    overrides = {s.name: getattr(args, s.name) for s in SETTINGS
                 if getattr(args, s.name, None) is not None}
    return create_run(args.game, args.output, overrides)


def _refuse_sweep(folder, command):
    """A sweep folder given where a run folder is expected: say what to type instead."""
    from retro_gamer.run.sweep import is_sweep

    if is_sweep(folder):
        shown = folder if folder.endswith("/") else folder + "/"
        instead = {"train": f"'retro-gamer sweep train {shown}'"}.get(
            command, f"'retro-gamer {command} {shown}VARIANT/seedN/' for one of its runs")
        raise RetroGamerError(f"{shown} is a sweep folder, not a run: use {instead}")


def run_train(args):
    from retro_gamer.run.session import train

    _refuse_sweep(args.run_dir, "train")
    return train(args.run_dir)


def run_play(args):
    if args.record is not None or args.size is not None:
        from retro_gamer.show.recording import command_play_recorded

        return command_play_recorded(args.run_dir, args.record, size=args.size, checkpoint=args.checkpoint,
                                     framerate=args.framerate, episodes=args.episodes, seed=args.seed)
    from retro_gamer.show.play import command_play

    _refuse_sweep(args.run_dir, "play")
    return command_play(args.run_dir, checkpoint=args.checkpoint, framerate=args.framerate,
                        episodes=args.episodes, seed=args.seed)


def run_info(args):
    from retro_gamer.run.folder import show_info
    from retro_gamer.run.sweep import is_sweep, show_sweep_info

    if is_sweep(args.run_dir):
        return show_sweep_info(args.run_dir)
    return show_info(args.run_dir)


def run_clean(args):
    from retro_gamer.run.folder import clean_run

    _refuse_sweep(args.run_dir, "clean")
    return clean_run(args.run_dir, assume_yes=args.yes)


def run_evaluate(args):
    from retro_gamer.show.evaluate import command_evaluate
    from retro_gamer.run.sweep import is_sweep

    if is_sweep(args.run_dir):
        from retro_gamer.show.sweep_evaluate import command_evaluate_sweep

        if args.all_checkpoints:
            raise ConfigError("--all-checkpoints is for one run; for a sweep give --checkpoint NAME "
                              "to compare every run at that checkpoint")
        return command_evaluate_sweep(args.run_dir, args.checkpoint, args.episodes, args.seed, args.json)
    if args.json:
        raise ConfigError("--json is for sweep folders; the table of one run is meant to be read")
    return command_evaluate(args.run_dir, args.checkpoint, args.episodes, args.seed, args.all_checkpoints,
                            record_best=args.record_best, record_worst=args.record_worst, size=args.size)


def run_plot(args):
    from retro_gamer.show.plot import command_plot
    from retro_gamer.run.sweep import is_sweep

    sweeps = [folder for folder in args.run_dirs if is_sweep(folder)]
    if sweeps:
        from retro_gamer.show.sweep_plot import command_plot_sweep

        if len(args.run_dirs) > 1:
            raise ConfigError("plot takes one sweep folder at a time (its variants share each panel), "
                              "or any number of run folders")
        return command_plot_sweep(sweeps[0], args.metric, args.output, args.width)
    return command_plot(args.run_dirs, args.metric, args.output, args.width)


def run_check(args):
    from retro_gamer.game.check import check_game

    report = check_game(args.game, episodes=args.episodes, max_turns=args.max_turns, seed=args.seed)
    print(report.format())
    return report.exit_code(strict=args.strict)


def run_sweep_create(args):
    from retro_gamer.run.settings import SETTINGS
    from retro_gamer.run.sweep import create_sweep

    options = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name, None) is not None}
    return create_sweep(args.game, args.output, args.seeds, args.vary, args.ablate, options)


def run_sweep_update(args):
    from retro_gamer.run.sweep import update_sweep

    update_sweep(args.sweep_dir)
    return 0


def run_sweep_train(args):
    from retro_gamer.run.parallel import train_sweep

    return train_sweep(args.sweep_dir, args.jobs)


def main(argv=None):
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return args.run(args) or 0
    except GameCrashed as error:
        print(f"error: {error}", file=sys.stderr)
        if error.details:
            print(error.details.rstrip(), file=sys.stderr)
        return error.exit_code
    except RetroGamerError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return 1

