"""A damaged checkpoint is a clear message, never a traceback, and never runs code.

Checkpoints get truncated by a full disk, emptied by a crash, replaced by
the wrong file, or sent by someone else. Whatever the newest checkpoint
holds, ``train``, ``play`` (through ``policy.load_policy``) and ``evaluate``
must answer with one message that names the file, says what to do (remove
it, or use an earlier one), and offers the newest earlier checkpoint that
still loads.

"Never runs code": a pickle can call any function while it is read. The
pickles below would create a marker file; the tests check that it never
appears (and, so that they can fail, that it does appear when numpy is told
to allow pickles).
"""

import io
import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import create_catch_run, run_main, set_setting
from retro_gamer.errors import CheckpointError
from retro_gamer.nn.serialize import load_npz
from retro_gamer.show.policy import load_policy


class CreatesAFileWhenUnpickled:
    """Unpickling this calls ``open(marker, "w")``: code chosen by whoever wrote the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A Catch run with three good checkpoints: ep_0100, ep_0200, ep_0300."""
    run_dir = create_catch_run(tmp_path_factory.mktemp("damaged") / "run", "--training-episodes", "300")
    code, _, stderr = run_main(["train", run_dir])
    assert code == 0, stderr
    return run_dir


@pytest.fixture
def run_dir(trained_run, tmp_path):
    """A fresh copy of the trained run, set to train one episode further."""
    copy = Path(shutil.copytree(trained_run, tmp_path / "run"))
    set_setting(copy, "training", "training_episodes", "301")
    return copy


def good_arrays(path):
    return load_npz(path)


def write_npz(path, arrays, allow_pickle=False):
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=allow_pickle, **arrays)
    Path(path).write_bytes(buffer.getvalue())


def first_weight_name(arrays):
    return next(name for name in sorted(arrays) if name.startswith("online/"))


# --- the ways a checkpoint can be damaged -------------------------------------------

def truncated(path, marker):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def zero_bytes(path, marker):
    path.write_bytes(b"")


def not_an_npz(path, marker):
    path.write_text("These are my notes about the training run, saved over the checkpoint.\n")


def random_bytes(path, marker):
    path.write_bytes(random.Random(0).randbytes(4000))


def a_single_npy_array(path, marker):
    buffer = io.BytesIO()
    np.save(buffer, np.arange(10.0))
    path.write_bytes(buffer.getvalue())


def a_bare_pickle(path, marker):
    path.write_bytes(pickle.dumps({"online/weights": CreatesAFileWhenUnpickled(marker)}))


def a_pickled_object_inside(path, marker):
    arrays = good_arrays(path)
    payload = np.empty(1, dtype=object)
    payload[0] = CreatesAFileWhenUnpickled(marker)
    arrays["online/extra"] = payload
    write_npz(path, arrays, allow_pickle=True)


def a_pickled_meta(path, marker):
    arrays = good_arrays(path)
    meta = np.empty((), dtype=object)
    meta[()] = CreatesAFileWhenUnpickled(marker)
    arrays["meta"] = meta
    write_npz(path, arrays, allow_pickle=True)


def a_weight_of_the_wrong_shape(path, marker):
    arrays = good_arrays(path)
    arrays[first_weight_name(arrays)] = np.zeros((3, 3), dtype=np.float32)
    write_npz(path, arrays)


def a_weight_of_the_wrong_type(path, marker):
    arrays = good_arrays(path)
    name = first_weight_name(arrays)
    arrays[name] = np.full(arrays[name].shape, "oops")
    write_npz(path, arrays)


def a_missing_weight(path, marker):
    arrays = good_arrays(path)
    del arrays[first_weight_name(arrays)]
    write_npz(path, arrays)


def a_meta_that_is_not_json(path, marker):
    arrays = good_arrays(path)
    arrays["meta"] = np.array("{episode: 300,")
    write_npz(path, arrays)


def a_meta_missing_its_counters(path, marker):
    arrays = good_arrays(path)
    meta = json.loads(str(arrays["meta"][()]))
    arrays["meta"] = np.array(json.dumps({"shape": meta["shape"]}))  # no episode, turns, epsilon...
    write_npz(path, arrays)


DAMAGES = [truncated, zero_bytes, not_an_npz, random_bytes, a_single_npy_array, a_bare_pickle,
           a_pickled_object_inside, a_pickled_meta, a_weight_of_the_wrong_shape,
           a_weight_of_the_wrong_type, a_missing_weight, a_meta_that_is_not_json,
           a_meta_missing_its_counters]
PICKLES = [a_bare_pickle, a_pickled_object_inside, a_pickled_meta]


def test_the_crafted_pickles_really_run_code_when_allowed(tmp_path):
    """Proof that the marker works: numpy with allow_pickle=True does create it."""
    for damage in (a_pickled_object_inside, a_pickled_meta):
        path = tmp_path / f"{damage.__name__}.npz"
        marker = tmp_path / f"{damage.__name__}.marker"
        write_npz(path, {"meta": np.array("{}")})
        damage(path, marker)
        with np.load(path, allow_pickle=True) as archive:
            for name in archive.files:
                archive[name]
        assert marker.exists()
    marker = tmp_path / "bare.marker"
    pickle.loads(pickle.dumps(CreatesAFileWhenUnpickled(marker)))
    assert marker.exists()


# --- what every loader must say ---------------------------------------------------

def damage_newest(run_dir, damage):
    path = run_dir / "checkpoints" / "ep_0300.npz"
    marker = run_dir.parent / "pickle_ran.marker"
    damage(path, marker)
    return path, marker, path.read_bytes()


def assert_clear_message(message, damaged_path, offered="ep_0200"):
    """One message: names the file, says to remove it or use an earlier one, offers that one."""
    assert "Traceback" not in message
    assert damaged_path.name in message, message
    assert "remove" in message.lower() or "delete" in message.lower(), message
    assert offered in message, message


def load_through(command, run_dir):
    """Load the newest checkpoint as ``command`` does; return (exit code, error message)."""
    if command == "play":
        with pytest.raises(CheckpointError) as raised:
            load_policy(run_dir)
        return 1, str(raised.value)
    arguments = {"train": ["train", run_dir],
                 "evaluate": ["evaluate", run_dir, "--episodes", "1"],
                 "evaluate --all-checkpoints": ["evaluate", run_dir, "--episodes", "1", "--all-checkpoints"],
                 }[command]
    code, _, stderr = run_main(arguments)  # an exception escaping here would be a traceback
    return code, stderr


@pytest.mark.parametrize("command", ["train", "play", "evaluate"])
@pytest.mark.parametrize("damage", DAMAGES, ids=lambda damage: damage.__name__)
def test_a_damaged_newest_checkpoint_is_a_clear_message(run_dir, damage, command):
    path, marker, damaged_bytes = damage_newest(run_dir, damage)
    code, message = load_through(command, run_dir)
    assert code == 1, message
    assert message.count("error: ") <= 1
    assert_clear_message(message, path)
    assert not marker.exists(), "loading the checkpoint ran code from a pickle"
    assert path.read_bytes() == damaged_bytes, "the damaged file was changed; the user should decide"


@pytest.mark.parametrize("damage", PICKLES, ids=lambda damage: damage.__name__)
def test_evaluating_every_checkpoint_never_runs_a_pickle(run_dir, damage):
    path, marker, _ = damage_newest(run_dir, damage)
    code, message = load_through("evaluate --all-checkpoints", run_dir)
    assert code == 1, message
    assert path.name in message
    assert not marker.exists()


def test_the_offer_skips_earlier_checkpoints_that_are_damaged_too(run_dir):
    truncated(run_dir / "checkpoints" / "ep_0200.npz", None)
    path, _, _ = damage_newest(run_dir, zero_bytes)
    code, message = load_through("train", run_dir)
    assert code == 1
    assert_clear_message(message, path, offered="ep_0100")
    assert "ep_0200" not in message.replace(str(path), "")


def test_when_no_checkpoint_loads_the_message_says_training_starts_fresh(run_dir):
    for name in ("ep_0100.npz", "ep_0200.npz"):
        zero_bytes(run_dir / "checkpoints" / name, None)
    path, _, _ = damage_newest(run_dir, truncated)
    with pytest.raises(CheckpointError) as raised:
        load_policy(run_dir)
    message = str(raised.value)
    assert path.name in message and "fresh" in message


def test_following_the_advice_resumes_from_the_earlier_checkpoint(run_dir):
    path, _, _ = damage_newest(run_dir, truncated)
    path.unlink()
    code, _, stderr = run_main(["train", run_dir])
    assert code == 0, stderr
    assert "Resuming from ep_0200.npz" in stderr


def test_play_and_evaluate_can_pick_the_earlier_checkpoint_by_name(run_dir):
    damage_newest(run_dir, not_an_npz)
    assert load_policy(run_dir, "ep_0200").checkpoint_name == "ep_0200"
    code, _, stderr = run_main(["evaluate", run_dir, "--checkpoint", "ep_0200", "--episodes", "1"])
    assert code == 0, stderr


# --- the replay memory beside the checkpoints ------------------------------------

@pytest.mark.parametrize("damage", [truncated, zero_bytes, not_an_npz, a_bare_pickle,
                                    a_pickled_object_inside, a_weight_of_the_wrong_shape],
                         ids=lambda damage: damage.__name__)
def test_a_damaged_replay_memory_is_skipped_with_a_note(run_dir, damage):
    """The memory only speeds learning up: training resumes with an empty one, and says so."""
    path = run_dir / "checkpoints" / "replay_memory.npz"
    marker = run_dir.parent / "pickle_ran.marker"
    if damage is a_weight_of_the_wrong_shape:
        arrays = good_arrays(path)
        arrays["boards"] = np.zeros((3, 3), dtype=np.uint8)
        write_npz(path, arrays)
    else:
        damage(path, marker)
    code, _, stderr = run_main(["train", run_dir])
    assert code == 0, stderr
    assert "Resuming from ep_0300.npz" in stderr
    assert "Note:" in stderr and "refills" in stderr
    assert not marker.exists()
    assert (run_dir / "checkpoints" / "ep_0301.npz").exists()


def a_meta_with_a_broken_unfinished_block(path, marker):
    arrays = good_arrays(path)
    meta = json.loads(str(arrays["meta"][()]))
    meta["unfinished_block"] = {"first_episode": 301, "rewards": "lots", "turns": [1]}
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(path, arrays)


def test_a_damaged_unfinished_block_is_a_clear_message_when_training_resumes(run_dir):
    """Only train reads the block a stop cut short (to continue its log line); play and
    evaluate do not need it."""
    path, marker, damaged_bytes = damage_newest(run_dir, a_meta_with_a_broken_unfinished_block)
    code, message = load_through("train", run_dir)
    assert code == 1, message
    assert_clear_message(message, path)
    assert path.read_bytes() == damaged_bytes
    assert load_through("evaluate", run_dir)[0] == 0
