"""Tests for retro_gamer.dqn.replay and dqn.sum_tree: the sum tree, uniform and prioritized
replay, and the memory saved as plain arrays (run/checkpoint.py)."""

import io

import numpy as np
import pytest

from retro_gamer.errors import CheckpointError, TrainingError
from retro_gamer.dqn.replay import (
    PrioritizedReplay,
    ReplayBatch,
    UniformReplay,
    make_replay,
)
from retro_gamer.dqn.sum_tree import SumTree
from retro_gamer.run.checkpoint import load_replay_arrays, replay_arrays

SNAKE_BOARD = (16, 32)


def push_numbered(memory, count, start=0, terminal=False):
    """Push ``count`` transitions whose reward (and board fill) is their number."""
    height, width = memory.board_shape
    for number in range(start, start + count):
        board = np.full((height, width), number % 7, dtype=np.uint8)
        state = np.full(memory.state_size, number, dtype=np.float32)
        memory.push(board, state, number % 4, float(number), board + 1, state + 0.5,
                    terminal)


def brute_force_find(leaves, masses):
    """The slot k with sum(leaves[:k]) <= mass < sum(leaves[:k+1])."""
    return np.searchsorted(np.cumsum(leaves), masses, side="right")


# --- the sum tree -------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [1, 2, 3, 7, 8, 100])
def test_tree_matches_brute_force_under_random_updates(capacity):
    rng = np.random.default_rng(capacity)
    tree = SumTree(capacity)
    leaves = np.zeros(capacity)
    ever_set = np.zeros(capacity, dtype=bool)
    for round_number in range(1500):
        # Whole-number priorities keep every sum exact, so the tree and the
        # brute force must agree exactly, ties included.
        if round_number % 2:
            slot = int(rng.integers(capacity))
            priority = float(rng.integers(0, 10))
            tree.update(slot, priority)
            leaves[slot] = priority
            ever_set[slot] = True
        else:
            slots = rng.integers(0, capacity, size=5)
            priorities = rng.integers(0, 10, size=5).astype(np.float64)
            tree.update(slots, priorities)
            for slot, priority in zip(slots, priorities):
                leaves[slot] = priority
            ever_set[slots] = True
        assert tree.total == leaves.sum()
        assert tree.min_priority == leaves[ever_set].min()
        if tree.total > 0:
            whole = rng.integers(0, int(tree.total), size=20)
            masses = np.concatenate([whole, whole + 0.5, [0.0]])
            np.testing.assert_array_equal(tree.find(masses), brute_force_find(leaves, masses))


def test_capacity_three_equal_priorities_pick_left_to_right():
    tree = SumTree(3)
    tree.update([0, 1, 2], [1.0, 1.0, 1.0])
    assert tree.leaf_count == 4
    np.testing.assert_array_equal(tree.find([0.5, 1.5, 2.5]), [0, 1, 2])


def test_root_stays_exact_after_100000_updates_and_edge_masses_hit_filled_slots():
    rng = np.random.default_rng(0)
    capacity = 1000
    tree = SumTree(capacity)
    for _ in range(1000):
        slots = rng.integers(0, capacity - 10, size=100)
        tree.update(slots, rng.random(100) * 10 ** rng.uniform(-3, 3, size=100))
    leaves = tree.priorities(np.arange(capacity))
    assert abs(tree.total - leaves.sum()) <= 1e-9
    assert tree.min_priority == leaves[: capacity - 10].min()
    # The last 10 slots were never filled: edge masses must not fall into them.
    edge_masses = [0.0, tree.total * (1 - 1e-12), tree.total, tree.total * (1 + 1e-12)]
    found = tree.find(edge_masses)
    assert np.all(found < capacity - 10)
    assert np.all(tree.priorities(found) > 0)


def test_zero_priority_leaves_are_never_drawn():
    rng = np.random.default_rng(1)
    tree = SumTree(50)
    priorities = np.where(np.arange(50) % 3 == 0, 0.0, rng.random(50) + 0.1)
    tree.update(np.arange(50), priorities)
    found = tree.find(rng.random(20_000) * tree.total)
    assert np.all(priorities[found] > 0)
    assert set(found) == set(np.flatnonzero(priorities))


def test_one_slot_at_a_time_and_a_batch_build_the_same_tree():
    rng = np.random.default_rng(2)
    one_by_one, batched = SumTree(37), SumTree(37)
    slots = rng.permutation(37)
    priorities = rng.random(37)
    for slot, priority in zip(slots, priorities):
        one_by_one.update(int(slot), float(priority))
    batched.update(slots, priorities)
    np.testing.assert_array_equal(one_by_one.sums, batched.sums)
    np.testing.assert_array_equal(one_by_one.minima, batched.minima)


def test_a_slot_given_twice_keeps_its_last_priority():
    tree = SumTree(4)
    tree.update([2, 1, 2, 2], [5.0, 1.0, 7.0, 3.0])
    np.testing.assert_array_equal(tree.priorities([0, 1, 2, 3]), [0.0, 1.0, 3.0, 0.0])
    assert tree.total == 4.0


@pytest.mark.parametrize("bad", [-1.0, np.nan])
def test_negative_or_nan_priorities_are_refused(bad):
    tree = SumTree(4)
    with pytest.raises(ValueError):
        tree.update(0, bad)
    with pytest.raises(ValueError):
        tree.update([0, 1], [1.0, bad])


# --- sampling -------------------------------------------------------------------------


def test_sampling_frequencies_are_proportional_to_priority():
    memory = PrioritizedReplay(10, (2, 3), 1, seed=3, alpha=1.0)
    push_numbered(memory, 10)
    td_errors = np.arange(1, 11, dtype=np.float64)
    memory.update_priorities(np.arange(10), td_errors)
    draws = np.concatenate([memory.sample(32).indices for _ in range(2000)])
    priorities = td_errors + memory.priority_eps
    expected = priorities / priorities.sum() * len(draws)
    counts = np.bincount(draws, minlength=10)
    # 4 binomial standard deviations (stratification only narrows the spread);
    # a tree that is off by one slot misses by 10-20 of them.
    tolerance = 4 * np.sqrt(expected)
    assert np.all(np.abs(counts - expected) < tolerance), (counts, expected)


def test_ten_times_the_priority_is_drawn_about_ten_times_as_often():
    memory = PrioritizedReplay(11, (1, 1), 0, seed=4, alpha=1.0, priority_eps=0.0)
    push_numbered(memory, 11)
    memory.update_priorities(np.arange(11), [1.0] * 10 + [10.0])
    draws = np.concatenate([memory.sample(64).indices for _ in range(500)])
    counts = np.bincount(draws, minlength=11)
    ratio = counts[10] / counts[:10].mean()
    assert 9.0 < ratio < 11.0


def test_alpha_zero_samples_uniformly_with_unit_weights():
    memory = PrioritizedReplay(40, (1, 1), 0, seed=5, alpha=0.0)
    push_numbered(memory, 40)
    memory.update_priorities(np.arange(40), np.random.default_rng(0).random(40) * 100)
    batches = [memory.sample(64, beta=0.7) for _ in range(600)]
    for batch in batches:
        np.testing.assert_array_equal(batch.weights, 1.0)
    counts = np.bincount(np.concatenate([batch.indices for batch in batches]), minlength=40)
    expected = 64 * 600 / 40
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected)), counts


def test_importance_weights_follow_the_formula():
    alpha, beta, eps = 0.6, 0.4, 1e-3
    memory = PrioritizedReplay(8, (1, 1), 0, seed=6, alpha=alpha, priority_eps=eps)
    push_numbered(memory, 5)
    td_errors = np.array([0.5, -2.0, 0.0, 4.0, 1.0])
    memory.update_priorities(np.arange(5), td_errors)
    priorities = (np.abs(td_errors) + eps) ** alpha
    probabilities = priorities / priorities.sum()
    weights_by_hand = (5 * probabilities) ** -beta
    weights_by_hand /= weights_by_hand.max()
    # Small batches seldom hold slot 2 (the smallest priority, weight 1): the
    # weights must still be divided by its weight, not by the batch's largest.
    for _ in range(50):
        batch = memory.sample(2, beta=beta)
        np.testing.assert_allclose(batch.weights, weights_by_hand[batch.indices], rtol=1e-6)
    assert weights_by_hand[2] == 1.0


def test_sampling_is_stratified():
    """With equal priorities, one draw per equal slice of the total is one draw per slot."""
    memory = PrioritizedReplay(64, (1, 1), 0, seed=22)
    push_numbered(memory, 64)
    for _ in range(20):
        np.testing.assert_array_equal(np.sort(memory.sample(64).indices), np.arange(64))


def test_weights_never_exceed_one():
    rng = np.random.default_rng(7)
    memory = PrioritizedReplay(64, (1, 1), 0, seed=7)
    push_numbered(memory, 64)
    for _ in range(200):
        batch = memory.sample(32, beta=float(rng.random()))
        assert np.all(batch.weights <= 1.0) and np.all(batch.weights > 0)
        memory.update_priorities(batch.indices, rng.normal(0, 10 ** rng.uniform(-4, 2), 32))


def test_new_transitions_enter_at_the_largest_priority():
    memory = PrioritizedReplay(4, (1, 1), 0, seed=8)
    push_numbered(memory, 2)
    np.testing.assert_array_equal(memory.tree.priorities([0, 1]), [1.0, 1.0])
    memory.update_priorities([0, 1], [9.0, 0.1])
    push_numbered(memory, 1)
    assert memory.tree.priorities([2])[0] == pytest.approx((9.0 + 1e-3) ** 0.6)


@pytest.mark.parametrize("prioritized", [False, True])
def test_one_transition_serves_a_batch_of_64(prioritized):
    memory = make_replay(prioritized, 100, SNAKE_BOARD, 2, seed=9)
    push_numbered(memory, 1)
    batch = memory.sample(64, beta=0.4)
    np.testing.assert_array_equal(batch.indices, 0)
    np.testing.assert_array_equal(batch.weights, 1.0)


@pytest.mark.parametrize("prioritized", [False, True])
def test_sampling_an_empty_memory_is_refused(prioritized):
    with pytest.raises(ValueError):
        make_replay(prioritized, 10, (1, 1), 0, seed=0).sample(4)


def test_uniform_replay_keeps_no_priorities():
    memory = UniformReplay(10, (1, 1), 0, seed=10)
    push_numbered(memory, 10)
    memory.update_priorities(np.arange(10), np.arange(10) * 100.0)
    batch = memory.sample(64, beta=0.4)
    np.testing.assert_array_equal(batch.weights, 1.0)
    assert batch.weights.dtype == np.float32


def test_nan_td_errors_stop_training():
    memory = PrioritizedReplay(4, (1, 1), 0, seed=11)
    push_numbered(memory, 4)
    with pytest.raises(TrainingError, match="learning_rate"):
        memory.update_priorities([0, 1], [1.0, np.nan])


# --- storage ---------------------------------------------------------------------------


@pytest.mark.parametrize("prioritized", [False, True])
def test_ring_overwrites_the_oldest_first(prioritized):
    memory = make_replay(prioritized, 4, (2, 2), 1, seed=12)
    push_numbered(memory, 3)
    assert len(memory) == 3
    push_numbered(memory, 3, start=3)
    assert len(memory) == 4
    assert memory.write_position == 2
    np.testing.assert_array_equal(memory.rewards, [4.0, 5.0, 2.0, 3.0])
    np.testing.assert_array_equal(memory.state_values[:, 0], [4.0, 5.0, 2.0, 3.0])
    batch = memory.sample(64)
    np.testing.assert_array_equal(batch.rewards, memory.rewards[batch.indices])
    np.testing.assert_array_equal(batch.boards[:, 0, 0], batch.rewards.astype(int) % 7)
    np.testing.assert_array_equal(batch.next_boards, batch.boards + 1)
    np.testing.assert_array_equal(batch.next_state_values, batch.state_values + 0.5)


def test_game_over_and_cut_short_are_stored_apart():
    memory = UniformReplay(3, (1, 1), 0, seed=13)
    board, no_state = np.zeros((1, 1)), np.zeros(0)
    memory.push(board, no_state, 0, 1.0, board, no_state, terminal=False)            # playing
    memory.push(board, no_state, 1, -10.0, board, no_state, terminal=True)           # died
    memory.push(board, no_state, 2, 1.0, board, no_state, terminal=False, steps=3)   # cut short
    batch = memory.sample(200)
    np.testing.assert_array_equal(batch.terminals, batch.indices == 1)
    np.testing.assert_array_equal(batch.steps, np.where(batch.indices == 2, 3, 1))
    np.testing.assert_array_equal(batch.actions, batch.indices)


@pytest.mark.parametrize("prioritized", [False, True])
def test_storage_and_batches_have_compact_dtypes(prioritized):
    memory = make_replay(prioritized, 1000, SNAKE_BOARD, 2, seed=14)
    assert memory.boards.dtype == np.uint8 and memory.next_boards.dtype == np.uint8
    assert memory.boards.shape == (1000, *SNAKE_BOARD)
    assert memory.state_values.dtype == np.float32
    assert memory.next_state_values.dtype == np.float32
    assert memory.rewards.dtype == np.float32
    assert memory.terminals.dtype == bool
    assert memory.steps.dtype == np.uint8
    assert memory.nbytes / memory.capacity < 1100  # one-hot float boards would be ~33,000
    push_numbered(memory, 5)
    batch = memory.sample(8)
    assert isinstance(batch, ReplayBatch)
    assert batch.indices.dtype == np.int64 and batch.actions.dtype == np.int64
    assert batch.boards.dtype == np.uint8 and batch.boards.shape == (8, *SNAKE_BOARD)
    assert batch.state_values.dtype == np.float32 and batch.state_values.shape == (8, 2)
    assert batch.rewards.dtype == np.float32
    assert batch.weights.dtype == np.float32


def test_a_memory_without_board_or_state():
    memory = PrioritizedReplay(5, (0, 0), 0, seed=15)
    push_numbered(memory, 2)
    batch = memory.sample(4)
    assert batch.boards.shape == (4, 0, 0) and batch.state_values.shape == (4, 0)


def test_make_replay_picks_the_class():
    assert type(make_replay(False, 10, (2, 2), 1, seed=0)) is UniformReplay
    prioritized = make_replay(True, 10, (2, 2), 1, seed=0)
    assert type(prioritized) is PrioritizedReplay and prioritized.alpha == 0.6


def test_a_given_generator_is_used_not_copied():
    generator = np.random.default_rng(16)
    memory = UniformReplay(10, (1, 1), 0, seed=generator)
    assert memory.rng is generator


# --- saving and restoring -------------------------------------------------------------


def through_npz(arrays):
    """Write the arrays to an in-memory npz and read them back without pickle."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return {name: loaded[name] for name in loaded.files}


def assert_same_batch(first, second):
    for name in ReplayBatch.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), err_msg=name)


@pytest.mark.parametrize("prioritized", [False, True])
def test_a_restored_memory_samples_exactly_what_the_original_would(prioritized):
    rng = np.random.default_rng(17)
    original = make_replay(prioritized, 20, (3, 4), 2, seed=18)
    push_numbered(original, 27)
    for _ in range(5):
        batch = original.sample(8, beta=0.5)
        original.update_priorities(batch.indices, rng.normal(size=8))
    restored = make_replay(prioritized, 20, (3, 4), 2, seed=999)
    load_replay_arrays(restored, through_npz(replay_arrays(original)))
    assert len(restored) == len(original) and restored.write_position == original.write_position
    for _ in range(3):
        expected, got = original.sample(16, beta=0.6), restored.sample(16, beta=0.6)
        assert_same_batch(expected, got)
        td_errors = rng.normal(size=16)
        original.update_priorities(expected.indices, td_errors)
        restored.update_priorities(got.indices, td_errors)
        push_numbered(original, 1, start=100)
        push_numbered(restored, 1, start=100)


def test_restore_brings_back_priorities_and_the_largest_one():
    original = PrioritizedReplay(6, (1, 1), 0, seed=19)
    push_numbered(original, 6)
    original.update_priorities([0, 3], [50.0, 0.0])
    restored = PrioritizedReplay(6, (1, 1), 0, seed=19)
    load_replay_arrays(restored, through_npz(replay_arrays(original)))
    np.testing.assert_array_equal(restored.tree.sums, original.tree.sums)
    np.testing.assert_array_equal(restored.tree.minima, original.tree.minima)
    assert restored.max_priority == original.max_priority > 1.0


def saved_memory(prioritized=True, capacity=8, board_shape=(2, 3), state_size=1):
    memory = make_replay(prioritized, capacity, board_shape, state_size, seed=20)
    push_numbered(memory, 5)
    return through_npz(replay_arrays(memory))


@pytest.mark.parametrize("saved, memory", [
    (saved_memory(capacity=8), PrioritizedReplay(9, (2, 3), 1, seed=0)),
    (saved_memory(board_shape=(2, 3)), PrioritizedReplay(8, (3, 2), 1, seed=0)),
    (saved_memory(state_size=1), PrioritizedReplay(8, (2, 3), 2, seed=0)),
    (saved_memory(prioritized=False), PrioritizedReplay(8, (2, 3), 1, seed=0)),
    (saved_memory(prioritized=True), UniformReplay(8, (2, 3), 1, seed=0)),
    (saved_memory(prioritized=False, capacity=8), UniformReplay(16, (2, 3), 1, seed=0)),
])
def test_a_memory_that_does_not_fit_is_refused(saved, memory):
    with pytest.raises(CheckpointError):
        load_replay_arrays(memory, saved)
    assert len(memory) == 0  # nothing was half-restored


@pytest.mark.parametrize("damage", ["missing", "size", "rng"])
def test_a_damaged_memory_is_refused_and_leaves_this_one_unchanged(damage):
    saved = saved_memory()
    if damage == "missing":
        del saved["rewards"]
    elif damage == "size":
        saved["size"] = np.array(99)
    else:
        saved["rng_state"] = np.array("not json")
    memory = PrioritizedReplay(8, (2, 3), 1, seed=21)
    push_numbered(memory, 3)
    before = {name: array.copy() for name, array in replay_arrays(memory).items()}
    with pytest.raises(CheckpointError):
        load_replay_arrays(memory, saved)
    for name, array in replay_arrays(memory).items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
