"""Shared helpers for the tests that drive the real command line.

Two ways to run ``retro-gamer``:

- ``run_cli``: a real subprocess (``python -m retro_gamer``), the way a user
  runs it. Slower, but it sees exit codes, signals and tracebacks exactly.
- ``run_main``: ``retro_gamer.cli.main`` in this process, with stdout and
  stderr captured. Fast; a Python exception escaping ``main`` is a traceback
  the user would have seen, so it is left to fail the test.

And a few checks on a run folder that several tests make after a failure:
no temporary file left behind, no torn line in training.log.
"""

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

from retro_gamer import cli
from retro_gamer.run.training_log import CHECKPOINT_LINE, RESUME_LINE, parse_checkpoint_line

GAMES = Path(__file__).parent / "games"
CATCH = GAMES / "catch"

# Small and quick: Catch cut at 5 turns, a tiny network, learning from the start.
QUICK_CATCH_OPTIONS = [
    "--max-turns-per-episode", "5", "--exploration-turns", "10", "--batch-size", "8",
    "--memory-capacity", "1000", "--hidden-sizes", "16", "--train-every", "2",
]


def run_cli(arguments, timeout=120, cwd=None):
    """Run ``python -m retro_gamer ARGUMENTS``; return ``(returncode, stdout, stderr)``."""
    completed = subprocess.run(
        [sys.executable, "-m", "retro_gamer", *map(str, arguments)],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)
    return completed.returncode, completed.stdout, completed.stderr


def run_main(arguments):
    """Run ``cli.main(ARGUMENTS)`` here; return ``(exit_code, stdout, stderr)``.

    argparse's usage errors leave through SystemExit; its code is returned too.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main([str(argument) for argument in arguments])
        except SystemExit as exit_request:
            code = exit_request.code
    return code, stdout.getvalue(), stderr.getvalue()


def create_catch_run(run_dir, *extra_options):
    """``create`` a quick Catch run in ``run_dir`` (in-process); return its path."""
    code, _, stderr = run_main(["create", "--game", CATCH, "--output", run_dir,
                                *QUICK_CATCH_OPTIONS, *extra_options])
    assert code == 0, stderr
    return Path(run_dir)


def set_setting(run_dir, section, name, value_text):
    """Replace the line ``name = ...`` of ``[section]`` in config.toml by ``name = value_text``."""
    path = Path(run_dir) / "config.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    current_section = None
    for index, line in enumerate(lines):
        if line.startswith("["):
            current_section = line.strip("[] ")
        elif current_section == section and line.split("=")[0].strip() == name:
            lines[index] = f"{name} = {value_text}"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return
    raise AssertionError(f"no {section}.{name} in {path}")


def temporary_files(run_dir):
    """Temporary files (``.NAME...tmp``) in the run folder and its checkpoints folder."""
    found = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        if folder.is_dir():
            found += [path for path in folder.iterdir()
                      if path.name.startswith(".") and path.name.endswith(".tmp")]
    return sorted(found)


def file_snapshot(path):
    """A file's bytes and modification time, to prove it was not rewritten."""
    return Path(path).read_bytes(), os.stat(path).st_mtime_ns


def assert_log_not_torn(log_path):
    """training.log holds whole lines only: header lines, then checkpoint and resume lines.

    The checkpoint lines tell one story: each starts where the one before it ended,
    or, after the line of a stop in the middle of a block (ep=0901-0986), at that
    block's start again: the next session carries the block on (ep=0901-1000).
    """
    text = Path(log_path).read_text(encoding="utf-8")
    assert text.endswith("\n"), f"the last line of {log_path} is cut: {text[-80:]!r}"
    entries = []
    for line in text.splitlines():
        if CHECKPOINT_LINE.match(line.strip()):
            entries.append(parse_checkpoint_line(line))
        elif RESUME_LINE.match(line.strip()):
            continue
        else:
            assert not entries, f"a torn or foreign line after the first checkpoint line: {line!r}"
    for before, after in zip(entries, entries[1:]):
        continues = after.first_episode == before.last_episode + 1
        carries_the_block_on = (before.last_episode % 100 != 0 and after.first_episode == before.first_episode
                                and after.last_episode > before.last_episode)
        assert continues or carries_the_block_on, (
            f"the log jumps from {before.name} (ep {before.last_episode}) to {after.name} "
            f"(first ep {after.first_episode})")
    return entries
