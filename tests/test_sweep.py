"""Sweeps: the plan and its run folders, training them in parallel, resuming, the commands file,
and the statistics that evaluate prints for them."""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import CATCH, QUICK_CATCH_OPTIONS, run_cli, run_main
from test_statistics import hand_iqm, hand_percentile
from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.config_file import read_config
from retro_gamer.run.sweep import read_plan
from retro_gamer.show import statistics

TIME_FIELDS = re.compile(r" time=\d+m\d\ds total=\d+m\d\ds$")


def create_sweep(folder, *options, seeds="0,1", vary=("n_step=1,3",), episodes=200):
    arguments = ["sweep", "create", "--game", CATCH, "--output", folder, "--seeds", seeds,
                 *QUICK_CATCH_OPTIONS, "--training-episodes", str(episodes), *options]
    for text in vary:
        arguments += ["--vary", text]
    code, out, err = run_main(arguments)
    assert code == 0, err
    return Path(folder)


def log_without_times(run_dir):
    """training.log without what a clock decides: the durations and the resume lines."""
    lines = (Path(run_dir) / "training.log").read_text(encoding="utf-8").splitlines()
    return [TIME_FIELDS.sub("", line) for line in lines if not line.startswith("=== Resumed")]


def checkpoint_contents(path):
    """Every array of a checkpoint and its meta, without the timings."""
    arrays, meta = checkpoints.load_checkpoint(path)
    for timing in ("training_seconds", "log_line"):
        meta.pop(timing)
    return arrays, meta


def assert_same_checkpoint(first, second):
    arrays_one, meta_one = checkpoint_contents(first)
    arrays_two, meta_two = checkpoint_contents(second)
    assert meta_one == meta_two
    assert sorted(arrays_one) == sorted(arrays_two)
    for name in arrays_one:
        assert np.array_equal(arrays_one[name], arrays_two[name]), name


def run_folders(sweep):
    return [run.path for run in read_plan(sweep).runs()]


# --- the plan --------------------------------------------------------------------------------

def test_create_writes_the_plan_one_run_per_variant_and_seed_and_the_commands(tmp_path):
    sweep = create_sweep(tmp_path / "sweep", seeds="0-2", vary=("n_step=1,3", "double_dqn=true,false"))
    plan_text = (sweep / "sweep.toml").read_text(encoding="utf-8")
    assert "seeds = [0, 1, 2]" in plan_text and "n_step = [1, 3]" in plan_text
    assert "double_dqn = [true, false]" in plan_text and "training_episodes = 200" in plan_text
    plan = read_plan(sweep)
    assert [variant.folder for variant in plan.variants()] == [
        "n_step=1,double_dqn=true", "n_step=1,double_dqn=false",
        "n_step=3,double_dqn=true", "n_step=3,double_dqn=false"]
    commands = (sweep / "commands.txt").read_text().splitlines()
    assert len(commands) == 12 and commands[0] == "retro-gamer train n_step=1,double_dqn=true/seed0/"
    for variant in plan.variants():
        for seed in (0, 1, 2):
            settings = read_config(sweep / variant.folder / f"seed{seed}")
            assert settings.seed == seed and settings.training_episodes == 200
            assert settings.n_step == variant.changes["n_step"]
            assert settings.double_dqn == variant.changes["double_dqn"]
            assert settings.character_set == ["=", "o"]


def test_ablations_are_the_default_and_one_change_each(tmp_path):
    code, out, err = run_main(["sweep", "create", "--game", CATCH, "--output", tmp_path / "ablation",
                               "--seeds", "3", *QUICK_CATCH_OPTIONS, "--ablate", "n_step=1",
                               "--ablate", "train_every=1", "--ablate", "train_every=4",
                               "--ablate", "hidden_sizes=32,32;reward_scale=1"])
    assert code == 0, err
    plan = read_plan(tmp_path / "ablation")
    assert [variant.name for variant in plan.variants()] == [
        "default", "n_step=1", "train_every=1", "train_every=4", "hidden_sizes=32-32,reward_scale=1"]
    assert read_config(tmp_path / "ablation" / "default" / "seed3").train_every == 2
    compound = read_config(tmp_path / "ablation" / "hidden_sizes=32-32,reward_scale=1" / "seed3")
    assert compound.hidden_sizes == [32, 32] and compound.reward_scale == 1.0


def test_an_edited_plan_gets_its_new_runs_and_keeps_the_old_ones(tmp_path):
    sweep = create_sweep(tmp_path / "sweep", seeds="0", vary=("n_step=1,3",))
    old = sweep / "n_step=1" / "seed0" / "config.toml"
    old_bytes, old_time = old.read_bytes(), old.stat().st_mtime_ns
    plan = sweep / "sweep.toml"
    plan.write_text(plan.read_text().replace("seeds = [0]", "seeds = [0, 5]")
                    .replace("n_step = [1, 3]", "n_step = [1, 3, 5]"), encoding="utf-8")
    code, out, err = run_main(["sweep", "update", sweep])
    assert code == 0, err
    assert "Created 4 new run(s)" in out
    assert read_config(sweep / "n_step=5" / "seed5").seed == 5
    assert (old.read_bytes(), old.stat().st_mtime_ns) == (old_bytes, old_time)
    assert len((sweep / "commands.txt").read_text().splitlines()) == 6


@pytest.mark.parametrize("arguments, message", [
    (["--vary", "nstep=1,3"], "unknown setting 'nstep' (did you mean n_step?)"),
    (["--vary", "n_step=1,x"], "'x' is not a value for n_step"),
    (["--vary", "seed=1,2"], "the seeds of a sweep are its 'seeds' list"),
    (["--seed", "4"], "a sweep takes its seeds from --seeds"),
    (["--seeds", "0,a"], "--seeds takes whole numbers and ranges"),
    (["--vary", "n_step=1,3", "--ablate", "n_step=1"], "either --vary (a grid) or --ablate"),
    (["--vary", "n_step=1,3", "--n-step", "2"], "n_step is given both as a common option and in --vary"),
    (["--vary", "n_step=1,1"], "a value appears twice"),
])
def test_create_refuses_what_it_cannot_plan_in_one_line(tmp_path, arguments, message):
    code, out, err = run_main(["sweep", "create", "--game", CATCH, "--output", tmp_path / "s",
                               *QUICK_CATCH_OPTIONS, *arguments])
    assert code == 2, err
    assert message in err and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s" / "sweep.toml").exists()


def test_sweep_folders_are_refused_where_a_run_is_meant_and_runs_where_a_sweep_is(tmp_path):
    sweep = create_sweep(tmp_path / "sweep", seeds="0", vary=("n_step=1,3",))
    code, _, err = run_main(["train", sweep])
    assert code == 1 and f"use 'retro-gamer sweep train {sweep}/'" in err
    code, _, err = run_main(["clean", sweep, "--yes"])
    assert code == 1 and "is a sweep folder, not a run" in err
    code, _, err = run_main(["sweep", "train", sweep / "n_step=1" / "seed0"])
    assert code == 2 and "is a run folder, not a sweep" in err
    code, _, err = run_main(["evaluate", sweep])
    assert code == 1 and "have no checkpoint yet" in err and "retro-gamer sweep train" in err
    code, _, err = run_main(["sweep", "create", "--game", CATCH, "--output", sweep])
    assert code == 1 and "sweep.toml already exists" in err


# --- training in parallel -------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_sweep(tmp_path_factory):
    """A 2 x 2 Catch sweep trained with --jobs 2, uninterrupted: (folder, output, errors)."""
    sweep = create_sweep(tmp_path_factory.mktemp("straight") / "sweep")
    code, out, err = run_cli(["sweep", "train", sweep, "--jobs", "2"], timeout=300)
    assert code == 0, err
    return sweep, out, err


def test_a_run_trained_in_a_sweep_equals_the_same_run_trained_alone(trained_sweep, tmp_path):
    sweep, out, err = trained_sweep
    assert "Done: all 4 runs" in out
    assert err.count("started  ") == 4 and err.count("finished ") == 4
    alone = tmp_path / "alone"
    shutil.copytree(sweep, alone, ignore=shutil.ignore_patterns("checkpoints", "training.log", "output"))
    for run_dir in run_folders(alone):
        code, _, run_err = run_cli(["train", run_dir], timeout=120)
        assert code == 0, run_err
    for in_sweep, by_itself in zip(run_folders(sweep), run_folders(alone)):
        assert log_without_times(in_sweep) == log_without_times(by_itself)
        names = [path.name for path in checkpoints.list_checkpoints(in_sweep)]
        assert names == ["ep_0100.npz", "ep_0200.npz"]
        assert names == [path.name for path in checkpoints.list_checkpoints(by_itself)]
        for name in names:
            assert_same_checkpoint(in_sweep / "checkpoints" / name, by_itself / "checkpoints" / name)
    # The seeds and variants really differ (the comparison above would pass on copies).
    logs = [log_without_times(run_dir) for run_dir in run_folders(sweep)]
    assert len({tuple(log) for log in logs}) == 4


def test_ctrl_c_stops_every_run_with_a_checkpoint_and_the_same_command_resumes_them(trained_sweep, tmp_path):
    straight, _, _ = trained_sweep
    sweep = create_sweep(tmp_path / "sweep")
    process = subprocess.Popen([sys.executable, "-m", "retro_gamer", "sweep", "train", str(sweep), "--jobs", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(checkpoints.list_checkpoints(run_dir) for run_dir in run_folders(sweep)):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "run 'retro-gamer sweep train" in err
    stopped_between = [checkpoints.episode_of(checkpoints.list_checkpoints(run_dir)[-1])
                       for run_dir in run_folders(sweep) if checkpoints.list_checkpoints(run_dir)]
    assert any(episode % 100 for episode in stopped_between), stopped_between  # stopped mid-way, saved
    assert any(not (run_dir / "training.log").exists() for run_dir in run_folders(sweep))  # still waiting
    code, out, err = run_cli(["sweep", "train", sweep, "--jobs", "2"], timeout=300)
    assert code == 0, err
    for resumed, uninterrupted in zip(run_folders(sweep), run_folders(straight)):
        final = checkpoints.list_checkpoints(resumed)[-1]
        assert final.name == "ep_0200.npz"
        assert_same_checkpoint(final, uninterrupted / "checkpoints" / final.name)
        assert_same_checkpoint(resumed / "checkpoints" / "ep_0100.npz",
                               uninterrupted / "checkpoints" / "ep_0100.npz")
        assert_same_log_but_for_the_stops(log_without_times(resumed), log_without_times(uninterrupted))


def assert_same_log_but_for_the_stops(resumed_log, straight_log):
    """Every line of the uninterrupted log, in order and unchanged; besides them only the
    lines of the checkpoints the stop saved in the middle of a block (ep=0101-0137, say),
    whose full block follows with the uninterrupted line (ep=0101-0200)."""
    def stop_line(line):
        match = re.match(r"\[ep_(\d+)\] ", line)
        return match is not None and int(match.group(1)) % 100 != 0

    assert [line for line in resumed_log if not stop_line(line)] == straight_log


def test_train_skips_a_trained_sweep_and_info_shows_every_run(trained_sweep):
    sweep, _, _ = trained_sweep
    code, out, err = run_main(["sweep", "train", sweep])
    assert code == 0 and "Every run of" in out and "is trained (4 runs)" in out
    code, out, err = run_main(["info", sweep])
    assert code == 0 and out.count("episode   200 of 200    done") == 4 and "4 of 4 runs done." in out


# --- the commands file, and evaluate on a sweep ----------------------------------------------

def independent_summary(scores):
    """Mean, IQM and their bootstrap intervals of an S x G list of lists, in plain Python."""
    seeds = len(scores)
    draws = np.random.default_rng(statistics.BOOTSTRAP_SEED).integers(
        0, seeds, size=(statistics.RESAMPLES, seeds)).tolist()
    summary = {}
    for name, function in (("mean", lambda values: sum(values) / len(values)), ("iqm", hand_iqm)):
        values = [function([value for row in chosen for value in scores[row]]) for chosen in draws]
        pooled = [value for row in scores for value in row]
        summary[name] = (function(pooled), hand_percentile(values, 2.5), hand_percentile(values, 97.5))
    return summary


def test_the_commands_file_trains_the_sweep_with_xargs_and_evaluate_prints_the_statistics(tmp_path):
    sweep = create_sweep(tmp_path / "sweep", seeds="0-2", vary=("n_step=1,3",), episodes=40)
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    wrapper = bin_folder / "retro-gamer"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m retro_gamer "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    environment = dict(os.environ, PATH=f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    completed = subprocess.run("xargs -P 2 -I CMD sh -c CMD < commands.txt", shell=True, cwd=sweep,
                               env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    for run_dir in run_folders(sweep):
        assert [path.name for path in checkpoints.list_checkpoints(run_dir)] == ["ep_0040.npz"]

    code, out, err = run_main(["evaluate", sweep, "--episodes", "6", "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert [entry["variant"] for entry in report["variants"]] == ["random play", "n_step=1", "n_step=3"]
    assert report["measure"] == "score" and report["seeds"] == [0, 1, 2]
    code, table, err = run_main(["evaluate", sweep, "--episodes", "6"])
    assert code == 0, err
    for entry in report["variants"]:
        scores = entry["scores"]
        assert len(scores) == 3 and all(len(row) == 6 for row in scores)
        expected = independent_summary(scores)
        for name in ("mean", "iqm"):
            value, low, high = expected[name]
            assert entry[name]["value"] == pytest.approx(value)
            assert entry[name]["ci_low"] == pytest.approx(low)
            assert entry[name]["ci_high"] == pytest.approx(high)
        row = next(line for line in table.splitlines() if line.startswith(entry["variant"] + " "))
        shown = [format_score(expected["mean"][0]), format_interval(*expected["mean"][1:]),
                 format_score(expected["iqm"][0]), format_interval(*expected["iqm"][1:])]
        for text in shown:
            assert text in row, (text, row)
    # The random row is scored on the same games by other players; greedy agents of one
    # variant differ between seeds.
    assert report["variants"][1]["scores"] != report["variants"][2]["scores"]
    assert "IQM" in table and "[95% CI]" in table and ("overlap" in table or "do not overlap" in table)


def format_score(value):
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def format_interval(low, high):
    return f"[{format_score(low)}, {format_score(high)}]"


def test_plot_draws_each_variants_mean_and_band(trained_sweep, tmp_path):
    sweep, _, _ = trained_sweep
    code, out, err = run_main(["plot", sweep, "--metric", "avg_reward", "--width", "60"])
    assert code == 0, err
    assert "n_step=1 (mean of 2 seeds)" in out and "n_step=3 (mean of 2 seeds)" in out
    assert "95% bootstrap interval" in out
    svg_path = tmp_path / "curves.svg"
    code, out, err = run_main(["plot", sweep, "--output", svg_path])
    assert code == 0, err
    svg = svg_path.read_text()
    assert svg.count('<polygon class="band"') == 8 and svg.count('<polyline class="series"') == 8
    code, _, err = run_main(["plot", sweep, sweep])
    assert code == 2 and "one sweep folder at a time" in err
