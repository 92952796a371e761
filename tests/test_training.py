"""The training workflow end to end: create, train, resume, info, clean, and what DQN must get right."""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.cli import main
from retro_gamer.run.config_file import read_config
from retro_gamer.show.evaluate import evaluate_greedy, evaluate_random
from retro_gamer.errors import TrainingError
from retro_gamer.show.policy import load_policy
from retro_gamer.dqn.loop import Trainer
from retro_gamer.run.session import resume_from, resume_memory

GAMES = Path(__file__).parent / "games"
CATCH = str(GAMES / "catch")
SMALL = ["--hidden-sizes", "32", "--exploration-turns", "100", "--batch-size", "16",
         "--memory-capacity", "2000", "--target-update-freq", "100"]


def create(tmp_path, *options, game=CATCH, name="run"):
    """A run of ``game``, seeing the whole board: these tests were measured so. (create's own
    choice for Catch, an 11x11 window, makes each learning step several times slower;
    tests/test_view_choice.py tests the choice.)"""
    run_dir = tmp_path / name
    assert main(["create", "--game", game, "--output", str(run_dir), "--no-egocentric", *options]) == 0
    return run_dir


def set_in_config(run_dir, old, new):
    path = run_dir / "config.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def run_cli(*arguments, **options):
    return subprocess.run([sys.executable, "-m", "retro_gamer", *arguments], capture_output=True,
                          text=True, timeout=120, **options)


# --- create ------------------------------------------------------------------------

def test_create_snake_by_module_name_prints_the_walkthrough_summary(tmp_path):
    result = run_cli("create", "--game", "retro.examples.snake", "--output", "runs/snake/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert lines == [
        "Created training run at runs/snake/config.toml",
        "game : retro.examples.snake",
        "board_size : 32×16",
        "actions : ['KEY_RIGHT', 'KEY_UP', 'KEY_LEFT', 'KEY_DOWN']",
        "reward : score",
        "characters : ['@', '*', '>', '<', '^', 'v']",
        "architecture: MLP",
    ]
    settings = read_config(tmp_path / "runs" / "snake")
    assert settings.observe_state == ["apple_dx", "apple_dy"]
    assert settings.egocentric and settings.egocentric_player == "Snake head"


def test_create_by_file_path_takes_options_and_description_values(tmp_path, capsys):
    run_dir = create(tmp_path, "--learning-rate", "0.001", "--hidden-sizes", "64,32",
                     "--no-prioritize-experiences", "--seed", "7")
    settings = read_config(run_dir)
    assert settings.actions == ["KEY_LEFT", "KEY_RIGHT"]
    assert settings.character_set == ["=", "o"]
    assert settings.board_size == [5, 6]
    assert settings.learning_rate == 0.001 and settings.hidden_sizes == [64, 32]
    assert settings.seed == 7 and settings.prioritize_experiences is False
    assert "architecture: MLP" in capsys.readouterr().out


def test_create_takes_spatial_from_the_games_own_description(tmp_path, capsys):
    run_dir = create(tmp_path, game="retro.examples.nav")
    assert read_config(run_dir).spatial is True
    assert "architecture: CNN" in capsys.readouterr().out


def test_create_discovers_characters_when_the_description_has_none(tmp_path, capsys):
    run_dir = create(tmp_path, "--exploration-turns", "200", game=str(GAMES / "walker.py"))
    characters = read_config(run_dir).character_set
    assert characters == sorted(characters) and " " not in characters and characters


def test_create_refuses_to_overwrite_a_run(tmp_path, capsys):
    run_dir = create(tmp_path)
    before = (run_dir / "config.toml").read_bytes()
    assert main(["create", "--game", CATCH, "--output", str(run_dir)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (run_dir / "config.toml").read_bytes() == before


def test_create_with_a_bad_option_value_lists_the_problem(tmp_path, capsys):
    assert main(["create", "--game", CATCH, "--output", str(tmp_path / "r"), "--gamma", "3"]) == 2
    assert "training.gamma must be at most 1.0" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


# --- train, resume, complete ----------------------------------------------------

def test_train_writes_checkpoints_and_the_log(tmp_path, capsys):
    run_dir = create(tmp_path, "--training-episodes", "150", *SMALL)
    capsys.readouterr()
    assert main(["train", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith(f"Done. Checkpoints saved in {run_dir}/checkpoints/")
    assert [p.name for p in checkpoints.list_checkpoints(run_dir)] == ["ep_0100.npz", "ep_0150.npz"]
    log = (run_dir / "training.log").read_text().splitlines()
    assert log[0] == "Network architecture:"
    lines = [line for line in log if line.startswith("[ep_")]
    assert lines[0].startswith("[ep_0100] ep=0001-0100 avg_reward=")
    assert lines[1].startswith("[ep_0150] ep=0101-0150 avg_reward=")
    for field in ("avg_steps=", "epsilon=0.", "avg_loss=", "time=0m", "total=0m"):
        assert field in lines[1]
    assert main(["train", str(run_dir)]) == 0
    assert capsys.readouterr().out.split() == (
        "Training already complete (150 episodes). To keep training, "
        "increase training_episodes in config.toml.").split()


def test_resume_continues_exactly(tmp_path):
    """200 episodes in one go equal 100, a stop, and 100 more: every array, bit for bit."""
    for prioritized in (False, True):
        options = [*SMALL, "--training-episodes", "40", "--prioritize-experiences" if prioritized
                   else "--no-prioritize-experiences"]
        straight = create(tmp_path, *options, name=f"straight{prioritized}")
        stopped = create(tmp_path, *options, name=f"stopped{prioritized}")
        Trainer(straight, read_config(straight)).run_episodes(40, lambda: False)
        first = Trainer(stopped, read_config(stopped))
        first.run_episodes(20, lambda: False)
        second = Trainer(stopped, read_config(stopped))
        resume_from(second, checkpoints.list_checkpoints(stopped)[-1])
        assert resume_memory(second, 20) is None
        second.run_episodes(40, lambda: False)
        one = np.load(checkpoints.list_checkpoints(straight)[-1])
        two = np.load(checkpoints.list_checkpoints(stopped)[-1])
        assert sorted(one.files) == sorted(two.files)
        for name in one.files:
            if name != "meta":
                assert np.array_equal(one[name], two[name]), name


def test_a_stop_in_the_middle_of_a_block_still_logs_the_uninterrupted_line(tmp_path):
    """Stopped after episode 130 and resumed, a run writes its own line for the stop
    (ep=0101-0130), then for episodes 101-200 the very line a run that never stopped writes."""
    without_times = re.compile(r" time=\S+ total=\S+")
    straight = create(tmp_path, *SMALL, "--training-episodes", "200", name="straight")
    stopped = create(tmp_path, *SMALL, "--training-episodes", "200", name="stopped")
    uninterrupted = Trainer(straight, read_config(straight))
    uninterrupted.run_episodes(200)
    first = Trainer(stopped, read_config(stopped))
    first.run_episodes(200, stop_requested=lambda: first.progress.episode >= 130)
    assert [path.name for path in checkpoints.list_checkpoints(stopped)] == ["ep_0100.npz", "ep_0130.npz"]
    second = Trainer(stopped, read_config(stopped))
    resume_from(second, checkpoints.list_checkpoints(stopped)[-1])
    assert resume_memory(second, 130) is None
    second.run_episodes(200)
    straight_lines = [without_times.sub("", line) for line in uninterrupted.progress.log_lines]
    stopped_lines = [without_times.sub("", line) for line in first.progress.log_lines + second.progress.log_lines]
    assert stopped_lines[1].startswith("[ep_0130] ep=0101-0130 ")
    assert stopped_lines[2].startswith("[ep_0200] ep=0101-0200 ")
    assert [stopped_lines[0], stopped_lines[2]] == straight_lines
    carried = checkpoints.load_checkpoint(stopped / "checkpoints" / "ep_0130.npz")[1]["unfinished_block"]
    assert carried["first_episode"] == 101 and len(carried["rewards"]) == 30


def test_resume_marks_the_log_and_applies_safe_edits(tmp_path, capsys):
    run_dir = create(tmp_path, "--training-episodes", "100", *SMALL)
    assert main(["train", str(run_dir)]) == 0
    set_in_config(run_dir, "training_episodes = 100", "training_episodes = 200")
    set_in_config(run_dir, "learning_rate = 0.0001", "learning_rate = 0.0005")
    assert main(["train", str(run_dir)]) == 0
    log = (run_dir / "training.log").read_text()
    assert "=== Resumed from ep_0100.npz | " in log
    assert log.index("[ep_0100]") < log.index("=== Resumed") < log.index("[ep_0200] ep=0101-0200")
    meta = checkpoints.load_checkpoint(run_dir / "checkpoints" / "ep_0200.npz")[1]
    assert meta["learning_rate"] == pytest.approx(0.0005)


def test_an_incompatible_edit_stops_with_the_walkthrough_explanation(tmp_path, capsys):
    run_dir = create(tmp_path, "--training-episodes", "100", *SMALL)
    assert main(["train", str(run_dir)]) == 0
    set_in_config(run_dir, 'character_set = ["=", "o"]', 'character_set = ["=", "o", "#"]')
    set_in_config(run_dir, "training_episodes = 100", "training_episodes = 200")
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()}
    assert main(["train", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert "Cannot resume from ep_0100.npz: incompatible changes detected in config.toml." in err
    assert "character_set" in err and "was : ['=', 'o']" in err and "now : ['=', 'o', '#']" in err
    assert "why : the set of board characters (changes input layer size)" in err
    assert "retro-gamer clean" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()} == before


def test_ctrl_c_saves_a_checkpoint_and_train_resumes_from_it(tmp_path):
    run_dir = create(tmp_path, "--training-episodes", "100000", *SMALL)
    process = subprocess.Popen([sys.executable, "-m", "retro_gamer", "train", str(run_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    saved = checkpoints.list_checkpoints(run_dir)
    assert saved and f"Saved {saved[-1].name}" in err
    episode = checkpoints.episode_of(saved[-1])
    set_in_config(run_dir, "training_episodes = 100000", f"training_episodes = {episode + 3}")
    result = run_cli("train", str(run_dir))
    assert result.returncode == 0, result.stderr
    assert f"Resuming from {saved[-1].name}" in result.stderr
    assert checkpoints.episode_of(checkpoints.list_checkpoints(run_dir)[-1]) == episode + 3


def test_a_game_crash_shows_the_authors_traceback_and_where(tmp_path, capsys):
    run_dir = create(tmp_path, "--character-set", "*", game=str(GAMES / "crash_mid_episode.py"))
    capsys.readouterr()
    assert main(["train", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "crash_mid_episode.py" in err
    assert "turn 3" in err and "episode 1" in err


def test_a_loss_that_blows_up_stops_training_without_saving(tmp_path, monkeypatch):
    run_dir = create(tmp_path, "--training-episodes", "100", *SMALL)
    trainer = Trainer(run_dir, read_config(run_dir))
    monkeypatch.setattr(trainer.agent, "learn", lambda batch, gamma, scale: (float("nan"), None))
    with pytest.raises(TrainingError, match="learning rate .* too high"):
        trainer.run_episodes(100, lambda: False)
    assert checkpoints.list_checkpoints(run_dir) == []


# --- info and clean ---------------------------------------------------------------

def test_info_and_clean(tmp_path, capsys, monkeypatch):
    run_dir = create(tmp_path, "--training-episodes", "100", *SMALL)
    assert main(["train", str(run_dir)]) == 0
    capsys.readouterr()
    assert main(["info", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert f"Game module   : {CATCH}" in out
    assert "Model         : {'hidden_sizes': [32]}" in out
    assert "Training      : {'learning_rate': 0.0001, 'gamma': 0.99," in out
    assert "Last 1 checkpoints:\n  [ep_0100] ep=0001-0100" in out
    assert "Checkpoints (1): ['ep_0100.npz']" in out

    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["clean", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "Will remove 1 checkpoint(s) and training log from" in out
    assert "  checkpoints/ep_0100.npz" in out and "Nothing removed." in out
    assert checkpoints.list_checkpoints(run_dir)

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["clean", str(run_dir)]) == 0
    assert f"Cleaned. Run 'retro-gamer train {run_dir}/' to start fresh." in capsys.readouterr().out
    assert not (run_dir / "checkpoints").exists() and not (run_dir / "training.log").exists()
    assert (run_dir / "config.toml").exists()


def test_commands_on_a_folder_that_is_not_a_run(tmp_path, capsys):
    for command in ("train", "info", "clean"):
        assert main([command, str(tmp_path / "nowhere")]) == 2
        err = capsys.readouterr().err
        assert "does not exist" in err and "Traceback" not in err


# --- what DQN must get right --------------------------------------------------------

def test_epsilon_decays_once_per_episode_whatever_their_length(tmp_path):
    run_dir = create(tmp_path, *SMALL, "--epsilon-decay", "0.9", "--epsilon-min", "0.2")
    trainer = Trainer(run_dir, read_config(run_dir))
    trainer.run_episodes(7, lambda: False)
    assert trainer.progress.epsilon == pytest.approx(max(0.2, 0.9 ** 7))
    trainer.run_episodes(30, lambda: False)
    assert trainer.progress.epsilon == pytest.approx(0.2)


def test_the_learning_rate_decays_once_per_episode_in_one_place(tmp_path):
    run_dir = create(tmp_path, *SMALL, "--learning-rate", "0.01", "--learning-rate-decay", "0.5")
    trainer = Trainer(run_dir, read_config(run_dir))
    trainer.run_episodes(3, lambda: False)
    assert trainer.agent.optimizer.learning_rate == pytest.approx(0.01 * 0.5 ** 3)
    assert type(trainer.agent.optimizer.learning_rate) is float  # a numpy float64 would turn Adam's float32 to float64


def test_everything_stays_float32_after_learning(tmp_path):
    run_dir = create(tmp_path, *SMALL, "--learning-rate", "0.001")
    trainer = Trainer(run_dir, read_config(run_dir))
    trainer.run_episodes(30, lambda: False)
    assert trainer.agent.optimizer.t > 0
    arrays = (trainer.agent.online.parameters() + trainer.agent.online.gradients()
              + trainer.agent.target.parameters())
    arrays += [value for value in trainer.agent.optimizer.state_arrays().values() if value.ndim > 0]
    assert all(array.dtype == np.float32 for array in arrays)


def test_a_cut_short_episode_bootstraps(tmp_path):
    """A game that never ends, 1 point a turn, cut at 8 turns: Q approaches 1/(1-gamma), not 8."""
    run_dir = create(tmp_path, "--no-board", "--observe-state", "one",
                     "--character-set", "t", "--gamma", "0.5", "--max-turns-per-episode", "8",
                     "--n-step", "1", "--reward-scale", "1", "--learning-rate", "0.01",
                     "--hidden-sizes", "8", "--batch-size", "16", "--exploration-turns", "16",
                     "--target-update-freq", "20", "--train-every", "1", game=str(GAMES / "endless.py"))
    trainer = Trainer(run_dir, read_config(run_dir))
    trainer.run_episodes(150, lambda: False)
    q_values = trainer.agent.online.predict(np.zeros((1, 0, 0), np.uint8), np.ones((1, 1), np.float32))
    assert np.allclose(q_values, 2.0, atol=0.15), q_values  # 1 / (1 - 0.5); ending at the cut gives less


def test_a_trained_greedy_policy_beats_random_play_on_catch(tmp_path):
    run_dir = create(tmp_path, "--training-episodes", "300", "--hidden-sizes", "64",
                     "--learning-rate", "0.001", "--exploration-turns", "500", "--epsilon-decay", "0.98",
                     "--train-every", "1")
    assert main(["train", str(run_dir)]) == 0
    policy = load_policy(run_dir)
    trained = np.mean(evaluate_greedy(policy, episodes=30, seed=1).rewards)
    random_play = np.mean(evaluate_random(policy, episodes=30, seed=1).rewards)
    assert trained > random_play + 5, (trained, random_play)


@pytest.mark.slow
def test_the_default_settings_learn_catch(tmp_path):
    """The defaults chosen on Snake must not break learning elsewhere."""
    run_dir = create(tmp_path, "--training-episodes", "300")
    assert main(["train", str(run_dir)]) == 0
    policy = load_policy(run_dir)
    trained = np.mean(evaluate_greedy(policy, episodes=30, seed=1).rewards)
    random_play = np.mean(evaluate_random(policy, episodes=30, seed=1).rewards)
    assert trained > random_play + 10, (trained, random_play)


def test_the_factory_in_config_toml_is_the_one_used(tmp_path, capsys):
    """[game] factory names the function that creates the game, for train as for create."""
    run_dir = create(tmp_path, "--training-episodes", "2", *SMALL)
    set_in_config(run_dir, 'module = ', 'factory = "catch:no_such_function"\nmodule = ')
    capsys.readouterr()
    assert main(["train", str(run_dir)]) == 1
    assert "no_such_function" in capsys.readouterr().err
