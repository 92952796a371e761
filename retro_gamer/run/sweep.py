"""A sweep: the same experiment on several seeds and several settings, as ordinary run folders.

One seed of one setting is an anecdote: on Snake, seeds 0-2 of the default
run differ more than most techniques do. A sweep makes the honest version of
a comparison as easy as the anecdote::

    retro-gamer sweep create --game retro.examples.snake --output sweeps/nstep/ \\
        --seeds 0,1,2 --vary n_step=1,3

writes

    sweeps/nstep/sweep.toml          the plan: game, common options, seeds, variants
    sweeps/nstep/n_step=1/seed0/     one ordinary run folder per variant and seed
    sweeps/nstep/n_step=1/seed1/     (train, play, info, evaluate, clean work on each)
    ...
    sweeps/nstep/commands.txt        'retro-gamer train n_step=1/seed0/', one run per line

The variants come from the plan in one of two ways:

- ``[vary]`` (``--vary NAME=V1,V2``): a grid, every combination of the values;
- ``[[ablate]]`` (``--ablate NAME=VALUE``): the common options as they are
  (the variant ``default``) and, beside it, one variant per change.

Each run's settings are, later ones winning: the game's description, the
plan's ``[options]``, the variant's values, and its seed. sweep.toml is
meant to be read and edited: add a seed or a value, then
``retro-gamer sweep update`` (or ``sweep train``) creates the runs that are
new; runs that exist are never touched (their config.toml is their truth).

Paths in commands.txt are relative to the sweep folder, so the folder can be
copied to another machine or a cluster as it is: run the lines from inside it.
"""

import contextlib
import difflib
import io
import itertools
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

from retro_gamer.errors import ConfigError, RetroGamerError, shown
from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.atomic import write_text_atomically
from retro_gamer.run.config_file import CONFIG_FILE, read_config
from retro_gamer.run.settings import SETTINGS_BY_NAME

PLAN_FILE = "sweep.toml"
COMMANDS_FILE = "commands.txt"
OUTPUT_DIR = "output"
DEFAULT_VARIANT = "default"
NOT_VARIABLE = ("module", "board_size", "seed", "observe_state_sizes")
LIST_KINDS = ("int_list", "str_list", "char_list")
SAFE_FOLDER_CHARACTER = re.compile(r"[A-Za-z0-9._=,+-]")

PLAN_HEADER = """\
The plan of a retro-gamer sweep: one run folder per variant and seed.
Edit it, then 'retro-gamer sweep update SWEEP_DIR' (or 'sweep train') creates
the runs that are new; runs that exist already are left as they are.

game    : the game (a module name or the absolute path of a file or folder)
seeds   : the seed of each run of every variant
[options]  : settings common to every run (the names of config.toml)
[vary]     : a grid: NAME = [values]; every combination is one variant
[[ablate]] : instead of a grid, one variant per table, each changing the
             settings it names; the variant 'default' has [options] only
"""


# --- the plan -------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One combination of settings: its name (``n_step=1,reward_scale=0``) and folder."""

    name: str
    folder: str
    changes: dict


@dataclass(frozen=True)
class SweepRun:
    """One run folder of a sweep: a variant trained with one seed."""

    variant: Variant
    seed: int
    path: Path          # the run folder (the sweep folder joined with ``relative``)
    relative: str       # ``n_step=1/seed0/``: as commands.txt names it

    @property
    def label(self):
        return f"{self.variant.folder}/seed{self.seed}"


@dataclass
class Plan:
    folder: Path
    game: str
    seeds: list
    options: dict = field(default_factory=dict)
    vary: dict = field(default_factory=dict)
    ablate: list = field(default_factory=list)

    def variants(self):
        """The variants in plan order: the grid's combinations, or default then each ablation."""
        if self.ablate:
            changes = [{}] + [dict(change) for change in self.ablate]
        elif self.vary:
            names = list(self.vary)
            changes = [dict(zip(names, values)) for values in itertools.product(*self.vary.values())]
        else:
            changes = [{}]
        names = [variant_name(change) for change in changes]
        folders = [safe_folder_name(name) for name in names]
        if len(set(folders)) != len(folders):
            folders = [f"v{index}-{folder}" for index, folder in enumerate(folders, start=1)]
        return [Variant(name, folder, change) for name, folder, change in zip(names, folders, changes)]

    def runs(self):
        """Every run, variant by variant, seed by seed."""
        return [SweepRun(variant, seed, self.folder / variant.folder / f"seed{seed}",
                         f"{variant.folder}/seed{seed}/")
                for variant in self.variants() for seed in self.seeds]

    def settings_of(self, variant, seed):
        """The create options of one run: the common options, the variant's values, the seed."""
        values = dict(self.options)
        values.update(variant.changes)
        values["seed"] = seed
        return values


def format_value(value):
    """A setting's value as a variant's name shows it: ``3``, ``0.001``, ``true``, ``128-64``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        if all(isinstance(item, str) and len(item) == 1 for item in value):
            return "".join(value)
        return "-".join(format_value(item) for item in value)
    return str(value)


def variant_name(changes):
    if not changes:
        return DEFAULT_VARIANT
    return ",".join(f"{name}={format_value(value)}" for name, value in changes.items())


def safe_folder_name(name):
    """The name with every character a shell or a file system may mind replaced by ``_``."""
    return "".join(character if SAFE_FOLDER_CHARACTER.match(character) else "_" for character in name)


def is_sweep(folder):
    return (Path(folder) / PLAN_FILE).is_file()


def read_plan(folder):
    """Read and check ``SWEEP_DIR/sweep.toml``."""
    folder = Path(folder)
    path = folder / PLAN_FILE
    if not path.is_file():
        if (folder / CONFIG_FILE).is_file():
            raise ConfigError(f"{shown(folder)} is a run folder, not a sweep (it has no {PLAN_FILE})")
        raise ConfigError(
            f"no {PLAN_FILE} in {shown(folder)}: make a sweep with "
            f"'retro-gamer sweep create --game GAME --output {shown(folder)} --seeds 0,1,2 --vary NAME=A,B'")
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    except tomlkit.exceptions.TOMLKitError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    where = str(path)
    unknown = set(document) - {"game", "seeds", "options", "vary", "ablate"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                          "a plan has game, seeds, [options], [vary] and [[ablate]]")
    game = document.get("game")
    if not isinstance(game, str) or not game:
        raise ConfigError(f"{where}: 'game' must name the game, like game = \"retro.examples.snake\"")
    seeds = document.get("seeds")
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 for seed in seeds)):
        raise ConfigError(f"{where}: 'seeds' must be a list of whole numbers, like seeds = [0, 1, 2]")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"{where}: a seed appears twice in 'seeds' ({seeds})")
    options = _table(document, "options", where)
    for name in options:
        check_setting_name(name, f"{where} [options]", allow_seed=False)
    vary = _table(document, "vary", where)
    for name, values in vary.items():
        check_setting_name(name, f"{where} [vary]")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: [vary] {name} must be a list of values, like {name} = [1, 3]")
    ablate = document.get("ablate", [])
    if not isinstance(ablate, list) or not all(isinstance(change, dict) for change in ablate):
        raise ConfigError(f"{where}: ablations are tables: [[ablate]] then NAME = VALUE lines")
    for change in ablate:
        if not change:
            raise ConfigError(f"{where}: an [[ablate]] table is empty (the variant 'default' is always there)")
        for name in change:
            check_setting_name(name, f"{where} [[ablate]]")
    if vary and ablate:
        raise ConfigError(f"{where}: give either a grid ([vary]) or ablations ([[ablate]]), not both")
    return Plan(folder, game, list(seeds), options, vary, ablate)


def _table(document, key, where):
    table = document.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: '{key}' must be a table ([{key}])")
    return table


def check_setting_name(name, where, allow_seed=False):
    if name == "seed" and not allow_seed:
        raise ConfigError(f"{where}: the seeds of a sweep are its 'seeds' list (--seeds), not a setting")
    if name in NOT_VARIABLE and name != "seed":
        raise ConfigError(f"{where}: {name} cannot be set for a sweep (it comes from the game)")
    if name not in SETTINGS_BY_NAME:
        close = difflib.get_close_matches(name, list(SETTINGS_BY_NAME), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{where}: unknown setting {name!r}{hint}; the names are those of config.toml "
                          "(docs/configuration.md)")


def plan_document(plan):
    """sweep.toml's text for a plan."""
    document = tomlkit.document()
    for line in PLAN_HEADER.splitlines():
        document.add(tomlkit.comment(line) if line else tomlkit.nl())
    document.add(tomlkit.nl())
    document["game"] = plan.game
    document["seeds"] = list(plan.seeds)
    document.add(tomlkit.nl())
    options = tomlkit.table()
    for name, value in plan.options.items():
        options[name] = value
    document["options"] = options
    if plan.vary:
        vary = tomlkit.table()
        for name, values in plan.vary.items():
            vary[name] = values
        document["vary"] = vary
    if plan.ablate:
        tables = tomlkit.aot()
        for change in plan.ablate:
            table = tomlkit.table()
            for name, value in change.items():
                table[name] = value
            tables.append(table)
        document["ablate"] = tables
    return tomlkit.dumps(document)


# --- reading the command line's values --------------------------------------------

def parse_seeds(text):
    """``0,1,2`` or ``0-4`` (or both: ``0-2,7``) -> a list of seeds."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ConfigError(f"--seeds takes whole numbers and ranges, like 0,1,2 or 0-4; got {text!r}")
        seeds += list(range(int(first), int(last) + 1)) if dash else [int(first)]
    if not seeds:
        raise ConfigError("--seeds needs at least one seed, like --seeds 0,1,2")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds names a seed twice: {text}")
    return seeds


def setting_name(text, where):
    name = text.strip().replace("-", "_")
    check_setting_name(name, where)
    return name


def parse_value(name, text, where):
    """One value of setting ``name`` from the text typed after ``=``."""
    kind = SETTINGS_BY_NAME[name].kind
    text = text.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
            raise ValueError
        if kind == "int_list":
            return [int(item) for item in text.split(",") if item.strip()]
        if kind == "str_list":
            return [item.strip() for item in text.split(",") if item.strip()]
        if kind == "char_list":
            return list(text)
        if kind == "str":
            return text
    except ValueError:
        pass
    else:
        raise ConfigError(f"{where}: {name} cannot be varied from the command line; edit {PLAN_FILE}")
    raise ConfigError(f"{where}: {text!r} is not a value for {name} ({kind.replace('_', ' ')})")


def split_values(name, text):
    """Values are separated by commas; for a setting that is itself a list, by slashes."""
    separator = "/" if SETTINGS_BY_NAME[name].kind in LIST_KINDS else ","
    return [item for item in text.split(separator) if item.strip()]


def parse_vary(text):
    """``--vary n_step=1,3`` -> ``("n_step", [1, 3])``."""
    name_text, equals, values_text = text.partition("=")
    if not equals:
        raise ConfigError(f"--vary takes NAME=VALUE1,VALUE2 (like n_step=1,3), got {text!r}")
    name = setting_name(name_text, f"--vary {text}")
    values = [parse_value(name, item, f"--vary {text}") for item in split_values(name, values_text)]
    if not values:
        raise ConfigError(f"--vary {text}: no values after '='")
    if len(values) != len({repr(value) for value in values}):
        raise ConfigError(f"--vary {text}: a value appears twice")
    return name, values


def parse_ablation(text):
    """``--ablate n_step=1`` (or ``a=1;b=2`` for a variant that changes two settings) -> a dict."""
    change = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name_text, equals, value_text = part.partition("=")
        if not equals:
            raise ConfigError(f"--ablate takes NAME=VALUE (like n_step=1), got {text!r}")
        name = setting_name(name_text, f"--ablate {text}")
        change[name] = parse_value(name, value_text, f"--ablate {text}")
    if not change:
        raise ConfigError(f"--ablate {text!r} changes nothing")
    return change


# --- sweep create and sweep update ------------------------------------------------

def create_sweep(game, output, seed_text, vary_texts, ablate_texts, options):
    """``retro-gamer sweep create``: write sweep.toml, one run folder per variant and seed, commands.txt."""
    folder = Path(output)
    if (folder / PLAN_FILE).exists():
        raise RetroGamerError(
            f"{folder / PLAN_FILE} already exists. Edit it and run 'retro-gamer sweep update "
            f"{shown(output)}', or choose another --output.")
    if (folder / CONFIG_FILE).exists():
        raise RetroGamerError(f"{shown(output)} is a run folder; choose another --output for the sweep")
    if "seed" in options:
        raise ConfigError("a sweep takes its seeds from --seeds (like --seeds 0,1,2), not --seed")
    if vary_texts and ablate_texts:
        raise ConfigError("give either --vary (a grid) or --ablate (one change at a time), not both")
    vary = dict(parse_vary(text) for text in vary_texts)
    if len(vary) != len(vary_texts):
        raise ConfigError("--vary names the same setting twice: give all its values in one --vary")
    ablate = [parse_ablation(text) for text in ablate_texts]
    for name in vary:  # (an ablation changes a common option on purpose: the default keeps it)
        if name in options:
            raise ConfigError(f"{name} is given both as a common option and in --vary: keep one")
    plan = Plan(folder, game, parse_seeds(seed_text), dict(options), vary, ablate)
    runs = plan.runs()
    first = runs[0]
    _create_run(plan, first)
    first_settings = read_config(first.path)
    plan.game = first_settings.module  # a file's absolute path: the plan works from any folder
    varied = set(vary) | {name for change in ablate for name in change}
    if "character_set" not in plan.options and "character_set" not in varied:
        # The characters were discovered from the first run's random turns: every run sees the same.
        plan.options["character_set"] = list(first_settings.character_set)
    write_text_atomically(folder / PLAN_FILE, plan_document(plan))
    for run in runs[1:]:
        _create_run(plan, run)
    write_commands(plan)
    print(f"Created sweep {shown(output)}: {len(plan.variants())} variant(s) x {len(plan.seeds)} seed(s) "
          f"= {len(runs)} runs")
    for variant in plan.variants():
        print(f"  {variant.folder}/  seeds {', '.join(str(seed) for seed in plan.seeds)}")
    print(f"  plan    : {folder / PLAN_FILE}")
    print(f"  commands: {folder / COMMANDS_FILE} (one 'retro-gamer train' per run, for a cluster)")
    print(f"Train every run with 'retro-gamer sweep train {shown(output)}'.")
    return 0


def _create_run(plan, run):
    from retro_gamer.run.folder import create_run

    summary = io.StringIO()
    try:
        with contextlib.redirect_stdout(summary):
            create_run(plan.game, str(run.path), plan.settings_of(run.variant, run.seed))
    except RetroGamerError as error:
        error.args = (f"while creating {run.label}: {error}",)
        raise


def update_sweep(folder, quiet=False):
    """Create the runs the plan names and the folder lacks; rewrite commands.txt. Returns the plan."""
    plan = read_plan(folder)
    created = []
    for run in plan.runs():
        if not (run.path / CONFIG_FILE).is_file():
            _create_run(plan, run)
            created.append(run)
    write_commands(plan)
    if created:
        print(f"Created {len(created)} new run(s): {', '.join(run.label for run in created)}")
    elif not quiet:
        print(f"Every run of {shown(folder)} exists already ({len(plan.runs())} runs).")
    if not quiet:
        print(f"Wrote {Path(folder) / COMMANDS_FILE}.")
    return plan


def command_line(run):
    return f"retro-gamer train {shlex.quote(run.relative)}"


def write_commands(plan):
    """commands.txt: one independent ``retro-gamer train RUN_DIR`` per line, relative to the sweep folder."""
    write_text_atomically(plan.folder / COMMANDS_FILE,
                          "".join(command_line(run) + "\n" for run in plan.runs()))


# --- where each run stands --------------------------------------------------------

@dataclass
class RunState:
    run: SweepRun
    episode: int          # episodes in the latest checkpoint
    total: int            # training_episodes of its config.toml
    holder: dict          # who trains it right now ({} for nobody)

    @property
    def done(self):
        return self.episode >= self.total


def run_state(run):
    from retro_gamer.run.lock import lock_holder

    settings = read_config(run.path)
    saved = checkpoints.list_checkpoints(run.path)
    episode = checkpoints.episode_of(saved[-1]) if saved else 0
    return RunState(run, episode, settings.training_episodes, lock_holder(run.path))


def show_sweep_info(folder):
    """``retro-gamer info SWEEP_DIR``: the plan and, for each run, how far it trained."""
    from retro_gamer.run.lock import describe_holder

    plan = read_plan(folder)
    print(f"Sweep    : {shown(folder)}")
    print(f"Game     : {plan.game}")
    print(f"Seeds    : {plan.seeds}")
    print(f"Options  : {plan.options}")
    variants = plan.variants()
    print(f"Variants : {len(variants)} ({', '.join(variant.name for variant in variants)})")
    print()
    missing, done = [], 0
    width = max(len(run.label) for run in plan.runs())
    for run in plan.runs():
        if not (run.path / CONFIG_FILE).is_file():
            missing.append(run)
            print(f"  {run.label:<{width}}  not created yet")
            continue
        state = run_state(run)
        done += state.done
        status = "done" if state.done else ("not started" if state.episode == 0 else "stopped")
        if state.holder:
            status = f"training now ({describe_holder(state.holder)})"
        print(f"  {run.label:<{width}}  episode {state.episode:>5} of {state.total:<5}  {status}")
    print()
    print(f"{done} of {len(plan.runs())} runs done.")
    if missing:
        print(f"Run 'retro-gamer sweep update {shown(folder)}' to create the {len(missing)} missing run(s).")
    elif done < len(plan.runs()):
        print(f"Run 'retro-gamer sweep train {shown(folder)}' to train the rest.")
    else:
        print(f"Compare them with 'retro-gamer evaluate {shown(folder)}'.")
    return 0
