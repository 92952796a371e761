"""The training.log formats: every line the trainer writes parses back to what it said."""

import math
import os
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retro_gamer.errors import RetroGamerError
from retro_gamer.run.training_log import (
    LogEntry,
    checkpoint_name,
    format_checkpoint_line,
    format_duration,
    format_loss,
    format_resume_line,
    parse_checkpoint_line,
    parse_log,
    read_log,
    write_log_atomically,
)

# The walkthrough's example block, with our .npz resume line and a header before it.
WALKTHROUGH_LOG = """\
Network architecture:
  Linear(512 -> 128)
  ReLU
  Linear(128 -> 5)
[ep_0100] ep=0001-0100 avg_reward=-31.4 avg_steps=47 epsilon=0.938 avg_loss=7.2 time=0m12s total=0m12s
[ep_0200] ep=0101-0200 avg_reward=-18.6 avg_steps=89 epsilon=0.879 avg_loss=6.8 time=0m14s total=0m26s
[ep_0300] ep=0201-0300 avg_reward= -4.1 avg_steps=134 epsilon=0.824 avg_loss=6.1 time=0m15s total=0m41s
[ep_0500] ep=0401-0500 avg_reward= +8.7 avg_steps=210 epsilon=0.724 avg_loss=5.4 time=0m16s total=1m12s
=== Resumed from ep_0500.npz | 2026-05-09 14:22:01 ===
[ep_1000] ep=0901-1000 avg_reward=+22.3 avg_steps=389 epsilon=0.557 avg_loss=4.9 time=0m18s total=2m30s
"""


def make_entry(**changes):
    fields = dict(
        name="ep_0100", first_episode=1, last_episode=100, avg_reward=-31.4,
        avg_steps=47.0, epsilon=0.938, avg_loss=7.2, time_seconds=12.0, total_seconds=12.0,
    )
    fields.update(changes)
    return LogEntry(**fields)


def test_walkthrough_lines_are_reproduced_exactly():
    lines = WALKTHROUGH_LOG.splitlines()
    assert format_checkpoint_line(make_entry()) == lines[4]
    assert format_checkpoint_line(make_entry(
        name="ep_0300", first_episode=201, last_episode=300, avg_reward=-4.1,
        avg_steps=134.2, epsilon=0.8241, avg_loss=6.14, time_seconds=15.3, total_seconds=41,
    )) == lines[6]
    assert format_checkpoint_line(make_entry(
        name="ep_0500", first_episode=401, last_episode=500, avg_reward=8.7,
        avg_steps=210, epsilon=0.724, avg_loss=5.4, time_seconds=16, total_seconds=72,
    )) == lines[7]
    assert format_resume_line("ep_0500.npz", datetime(2026, 5, 9, 14, 22, 1)) == lines[8]


def test_parse_walkthrough_block():
    log = parse_log(WALKTHROUGH_LOG)
    assert log.header == WALKTHROUGH_LOG.splitlines()[:4]
    assert [entry.name for entry in log.entries] == [
        "ep_0100", "ep_0200", "ep_0300", "ep_0500", "ep_1000"]
    assert log.resumes == ["=== Resumed from ep_0500.npz | 2026-05-09 14:22:01 ==="]
    assert log.entries[0] == make_entry()
    last = log.entries[-1]
    assert (last.first_episode, last.last_episode) == (901, 1000)
    assert last.avg_reward == pytest.approx(22.3)
    assert last.avg_steps == 389
    assert last.time_seconds == 18 and last.total_seconds == 150
    assert log.entries[2].avg_reward == pytest.approx(-4.1)


def test_parse_skips_unknown_lines_after_the_first_entry():
    text = WALKTHROUGH_LOG.replace("[ep_0200]", "garbage\n[ep_0200]") + "[ep_1100] truncated li"
    log = parse_log(text)
    assert len(log.entries) == 5
    assert "garbage" not in log.header


@pytest.mark.parametrize("episode, name", [
    (1, "ep_0001"), (100, "ep_0100"), (9999, "ep_9999"), (12000, "ep_12000")])
def test_checkpoint_names(episode, name):
    assert checkpoint_name(episode) == name


@pytest.mark.parametrize("seconds, text", [
    (0, "0m00s"), (12.4, "0m12s"), (59.6, "1m00s"), (72, "1m12s"), (4503, "75m03s")])
def test_durations(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("loss, text", [
    (7.2, "7.2"), (0.1, "0.1"), (0.0003, "0.0003"), (0.012345, "0.012"),
    (1.2e-5, "1.2e-05"), (0.0, "0"), (float("nan"), "nan"), (123.456, "123.5")])
def test_small_losses_keep_two_significant_digits(loss, text):
    assert format_loss(loss) == text


def test_large_episode_numbers_and_nan_loss_round_trip():
    entry = make_entry(name="ep_12000", first_episode=11901, last_episode=12000,
                       avg_loss=float("nan"), avg_reward=1234.5)
    line = format_checkpoint_line(entry)
    assert line.startswith("[ep_12000] ep=11901-12000 avg_reward=+1234.5 ")
    parsed = parse_checkpoint_line(line)
    assert math.isnan(parsed.avg_loss)
    assert parsed.last_episode == 12000


def test_a_last_checkpoint_off_the_cadence_parses():
    line = format_checkpoint_line(make_entry(name="ep_0250", first_episode=201, last_episode=250))
    assert line.startswith("[ep_0250] ep=0201-0250 ")
    assert parse_checkpoint_line(line).last_episode == 250


finite = dict(allow_nan=False, allow_infinity=False)


@given(
    first=st.integers(1, 50_000),
    length=st.integers(1, 1000),
    avg_reward=st.floats(-1e5, 1e5, **finite),
    avg_steps=st.floats(0, 1e5, **finite),
    epsilon=st.floats(0, 1, **finite),
    avg_loss=st.one_of(st.floats(-1e4, 1e4, **finite), st.just(float("nan"))),
    time_seconds=st.floats(0, 1e6, **finite),
    total_seconds=st.floats(0, 1e7, **finite),
)
def test_parse_of_format_is_the_entry_to_printed_precision(
        first, length, avg_reward, avg_steps, epsilon, avg_loss, time_seconds, total_seconds):
    last = first + length - 1
    entry = LogEntry(checkpoint_name(last), first, last, avg_reward, avg_steps, epsilon,
                     avg_loss, time_seconds, total_seconds)
    parsed = parse_checkpoint_line(format_checkpoint_line(entry))
    assert (parsed.name, parsed.first_episode, parsed.last_episode) == (entry.name, first, last)
    assert parsed.avg_reward == pytest.approx(avg_reward, abs=0.05 + 1e-9)
    assert parsed.avg_steps == pytest.approx(avg_steps, abs=0.5 + 1e-9)
    assert parsed.epsilon == pytest.approx(epsilon, abs=0.0005 + 1e-12)
    if math.isnan(avg_loss):
        assert math.isnan(parsed.avg_loss)
    elif abs(avg_loss) >= 0.1:
        assert parsed.avg_loss == pytest.approx(avg_loss, abs=0.05 + 1e-9)
    else:
        assert parsed.avg_loss == pytest.approx(avg_loss, rel=0.05)
    assert parsed.time_seconds == pytest.approx(time_seconds, abs=0.5 + 1e-9)
    assert parsed.total_seconds == pytest.approx(total_seconds, abs=0.5 + 1e-9)


def test_read_log_missing_file_says_to_train_first(tmp_path):
    with pytest.raises(RetroGamerError, match=r"no training.log in .*x/: run 'retro-gamer train .*x/' first"):
        read_log(tmp_path / "x" / "training.log")


def test_read_log_empty_file_is_a_clear_error(tmp_path):
    (tmp_path / "training.log").write_text("\n\n")
    with pytest.raises(RetroGamerError, match="is empty"):
        read_log(tmp_path / "training.log")


def test_read_log_of_a_folder_is_a_clear_error(tmp_path):
    (tmp_path / "training.log").mkdir()
    with pytest.raises(RetroGamerError, match="cannot read"):
        read_log(tmp_path / "training.log")


def test_write_log_atomically_round_trips_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "training.log"
    lines = WALKTHROUGH_LOG.splitlines()
    write_log_atomically(path, lines[:5])
    write_log_atomically(path, lines)
    assert path.read_text() == WALKTHROUGH_LOG
    assert read_log(path) == parse_log(WALKTHROUGH_LOG)
    assert os.listdir(tmp_path) == ["training.log"]


def test_write_log_atomically_keeps_the_old_file_when_the_swap_fails(tmp_path, monkeypatch):
    path = tmp_path / "training.log"
    write_log_atomically(path, ["old"])

    def failing_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_log_atomically(path, ["new"])
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["training.log"]
