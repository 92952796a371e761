"""npz files: exact round trips, resuming bit for bit, and refusing bad files."""

import os
import pickle

import numpy as np
import pytest

from retro_gamer.errors import CheckpointError
from retro_gamer.nn import Adam, QNetwork, huber_loss, load_npz, save_npz


def make_network_and_optimizer(seed):
    network = QNetwork((4, 6), 3, 2, 3, [8], conv_channels=[2], rng=np.random.default_rng(seed))
    optimizer = Adam(network.parameters(), learning_rate=3e-3, max_grad_norm=5.0)
    return network, optimizer


def make_batch(seed):
    rng = np.random.default_rng(seed)
    boards = rng.integers(0, 4, size=(8, 4, 6)).astype(np.uint8)
    state_values = rng.standard_normal((8, 2)).astype(np.float32)
    actions = rng.integers(3, size=8)
    targets = rng.standard_normal(8).astype(np.float32)
    return boards, state_values, actions, targets


def learning_step(network, optimizer, batch):
    boards, state_values, actions, targets = batch
    q_values = network.forward(boards, state_values)
    rows = np.arange(len(actions))
    _, grad_taken = huber_loss(q_values[rows, actions], targets)
    grad_q_values = np.zeros_like(q_values)
    grad_q_values[rows, actions] = grad_taken
    network.backward(grad_q_values)
    optimizer.step(network.gradients())
    optimizer.learning_rate *= 0.97


def test_save_and_load_round_trip_exactly(tmp_path):
    arrays = {
        "net/dense1.weight": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
        "adam/t": np.array(17, dtype=np.int64),
        "adam/learning_rate": np.array(0.1 * 0.99**7),
        "codes": np.arange(6, dtype=np.uint8).reshape(2, 3),
    }
    path = tmp_path / "ep_0100.npz"
    save_npz(path, arrays)
    loaded = load_npz(path)
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        assert loaded[name].tobytes() == array.tobytes()


def test_resumed_step_equals_uninterrupted_step_bit_for_bit(tmp_path):
    network, optimizer = make_network_and_optimizer(1)
    for seed in range(3):
        learning_step(network, optimizer, make_batch(seed))
    path = tmp_path / "checkpoint.npz"
    save_npz(path, {**network.state_arrays(), **optimizer.state_arrays()})

    resumed_network, resumed_optimizer = make_network_and_optimizer(99)  # other initial weights
    arrays = load_npz(path)
    resumed_network.load_state_arrays(arrays)
    resumed_optimizer.load_state_arrays(arrays)

    next_batch = make_batch(3)
    learning_step(network, optimizer, next_batch)
    learning_step(resumed_network, resumed_optimizer, next_batch)
    for uninterrupted, resumed in zip(network.parameters(), resumed_network.parameters()):
        assert uninterrupted.tobytes() == resumed.tobytes()
    for uninterrupted, resumed in zip(optimizer.m + optimizer.v, resumed_optimizer.m + resumed_optimizer.v):
        assert uninterrupted.tobytes() == resumed.tobytes()
    assert resumed_optimizer.t == optimizer.t == 4
    assert resumed_optimizer.learning_rate == optimizer.learning_rate


def test_save_writes_exactly_the_path_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "latest.tmp"
    save_npz(path, {"a": np.zeros(2)})
    save_npz(path, {"a": np.ones(2)})  # replaces the old file
    assert os.listdir(tmp_path) == ["latest.tmp"]
    np.testing.assert_array_equal(load_npz(path)["a"], [1.0, 1.0])


def test_saving_a_python_object_is_refused_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "ep_0001.npz"
    save_npz(path, {"a": np.zeros(2)})
    with pytest.raises(ValueError):
        save_npz(path, {"a": np.array([{"x": 1}], dtype=object)})
    assert os.listdir(tmp_path) == ["ep_0001.npz"]
    np.testing.assert_array_equal(load_npz(path)["a"], [0.0, 0.0])


def test_pickled_object_in_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.zeros(3), payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(CheckpointError) as caught:
        load_npz(path)
    message = str(caught.value)
    assert "evil.npz" in message and "pickled Python objects" in message
    assert "allow_pickle" not in message  # no advice to load it unsafely


def test_a_pickle_file_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="pickled.npz: it holds pickled Python objects"):
        load_npz(path)


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "single-npy"])
def test_damaged_files_raise_checkpoint_error(tmp_path, damage):
    path = tmp_path / "ep_0200.npz"
    save_npz(path, {"weights": np.arange(1000, dtype=np.float32)})
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "garbage":
        path.write_bytes(b"this is not a checkpoint at all" * 10)
    else:
        with open(path, "wb") as file:
            np.save(file, np.zeros(3))
    with pytest.raises(CheckpointError) as caught:
        load_npz(path)
    assert "ep_0200.npz" in str(caught.value)


def test_missing_file_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_npz(tmp_path / "nowhere.npz")


def test_unwritable_folder_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="Could not write"):
        save_npz(tmp_path / "no" / "such" / "folder.npz", {"a": np.zeros(1)})
