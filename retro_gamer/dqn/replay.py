"""How does the agent remember what happened, and which memories does it learn from?

Replay memory
-------------
Every turn of play gives one *transition*: the board and observed-state values
the agent saw, the action it took, the reward, what it saw next, and whether
the game ended. DQN stores transitions in a fixed-size memory and learns from
random batches of old ones. Random batches break the strong correlation
between consecutive turns, and each transition can be learned from many times.

The memory is a ring: ``capacity`` preallocated rows, written in turn; once
full, each new transition overwrites the oldest. Boards are stored as the
small integer codes the observation produces (uint8, ``height x width``), not
as one-hot floats: a one-hot Snake board would take 8 channels x 4 bytes = 32
times the room.

Two flags are kept apart. ``terminal`` is true only when the game itself
ended: there is no future to bootstrap from, so the learning target is just
the reward. An episode cut short by ``max_turns_per_episode`` is *not*
terminal: the game would have gone on, and its target still bootstraps.
``steps`` says how many rewards were summed into the stored reward (n-step
returns), so the target discounts the bootstrap by ``gamma ** steps``.

Uniform replay
--------------
``UniformReplay`` draws every stored transition with the same probability
``1 / N``; its importance weights are all 1.

Prioritized replay (Schaul et al., 2016, proportional variant)
--------------------------------------------------------------
Transitions the network predicts badly carry more to learn. Each transition
``i`` gets a priority from its last TD error ``delta_i``::

    p_i  = (|delta_i| + eps) ** alpha          alpha = 0.6
    P(i) = p_i / sum_k p_k                      probability of drawing i

``eps`` keeps every transition drawable; ``alpha`` blends between uniform
(alpha = 0) and fully greedy (alpha = 1) drawing. A new transition has no TD
error yet, so it enters at the largest priority seen so far: it is sure to be
drawn soon.

Drawing by priority changes the data's distribution, which would bias the
learned Q-values. Each sampled transition's loss is therefore scaled by an
importance-sampling weight, divided by the largest weight possible (that of
the smallest priority) so that weights never exceed 1::

    w_i = (N * P(i)) ** -beta  /  (N * P_min) ** -beta  =  (p_min / p_i) ** beta

``beta`` is chosen by the caller: the trainer anneals it from 0.4 to 1.0,
where the correction is complete.

Batches are *stratified*: the total priority is cut into ``batch_size`` equal
slices and one point is drawn uniformly in each. Every sample costs one search
of the sum tree below, so a batch costs O(batch_size * log N).

The sum tree
------------
Finding "the transition whose share of the total contains the point ``m``"
in a plain list takes O(N). A sum tree does it in O(log N): a complete binary
tree whose leaves hold the priorities and whose every inner node holds the sum
of its two children, so the root holds the total. For capacity 4 with
priorities 3, 1, 0, 2 (nodes numbered from 1; node k has children 2k, 2k+1)::

                      node 1
                       6.0
                 /             \\
            node 2            node 3
             4.0               2.0
            /    \\            /    \\
        node 4  node 5    node 6  node 7
         3.0     1.0       0.0     2.0
        slot 0  slot 1    slot 2  slot 3

Search for the point m = 4.5, starting at the root:

- node 1: left child holds 4.0. Is 4.5 < 4.0? No: go right and skip the
  left mass, m = 4.5 - 4.0 = 0.5.
- node 3: left child holds 0.0. Is 0.5 < 0.0? No: go right, m = 0.5 - 0 = 0.5.
- node 7 is a leaf: slot 3.

Because the test is a strict ``<``, a leaf of priority 0 is never chosen: no
point is smaller than 0. (The point m = 3.5 goes left at node 1, right at
node 2 with m = 0.5, and lands on slot 1.)

Changing one priority changes the sums on the path from its leaf up to the
root, O(log N) nodes. Each parent is recomputed from its two children rather
than adjusted by a difference: added differences accumulate rounding error
until the root no longer matches its leaves, and a search near the total then
falls off the end. The tree is kept in float64 for the same reason.

A second tree of the same shape holds minima instead of sums, so the smallest
priority (needed for the largest weight) is always at its root.

The capacity is padded up to a power of two so that leaf ``k`` always sits at
node ``leaf_count + k`` and the leaves read left to right in slot order;
padding leaves hold priority 0 (and +inf in the minimum tree) and are never
drawn.

The tree lives in one flat array, and node 0 is unused: that keeps the
arithmetic simple (children of k are ``2k`` and ``2k + 1``, parent ``k // 2``).
A batch search or update walks the tree one *level* at a time for the whole
batch, so the Python loop runs log2(capacity) times and numpy does the
per-sample work.

Saving
------
``state_arrays()`` exports the whole memory (transitions, write position,
size, priorities and the random generator's state as a JSON string) as a dict
of plain numpy arrays, which the checkpoint module writes to an npz file: no
pickle anywhere. ``load_state_arrays()`` puts it back, so a resumed run draws
exactly the batches the uninterrupted run would have drawn.
"""

import json
from dataclasses import dataclass

import numpy as np

from retro_gamer.errors import CheckpointError, TrainingError


class SumTree:
    """Priorities of ``capacity`` slots, with their total, minimum and prefix search.

    ``sums`` and ``minima`` are flat float64 arrays of length ``2 * leaf_count``;
    node 1 is the root and slot k is node ``leaf_count + k``.
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"a sum tree needs a capacity of at least 1, not {capacity}")
        self.capacity = capacity
        self.leaf_count = 1 << (capacity - 1).bit_length()
        self.depth = self.leaf_count.bit_length() - 1
        self.sums = np.zeros(2 * self.leaf_count, dtype=np.float64)
        self.minima = np.full(2 * self.leaf_count, np.inf, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all priorities (the root of the sum tree)."""
        return float(self.sums[1])

    @property
    def min_priority(self) -> float:
        """Smallest priority ever set and still present; +inf while nothing is set."""
        return float(self.minima[1])

    def priorities(self, slots) -> np.ndarray:
        """The priorities stored at ``slots`` (an int array)."""
        return self.sums[self.leaf_count + np.asarray(slots)]

    def set(self, slot: int, priority: float) -> None:
        """Set one slot's priority and recompute the sums and minima above it."""
        if not priority >= 0:
            raise ValueError(f"priorities must be finite and >= 0, not {priority}")
        node = self.leaf_count + slot
        self.sums[node] = priority
        self.minima[node] = priority
        while node > 1:
            node //= 2
            left, right = 2 * node, 2 * node + 1
            self.sums[node] = self.sums[left] + self.sums[right]
            self.minima[node] = min(self.minima[left], self.minima[right])

    def update(self, slots, priorities) -> None:
        """Set many slots' priorities at once; a slot given twice keeps its last priority.

        The leaves change first, then each level of parents is recomputed from
        its children, all the batch's nodes of a level in one numpy step.
        """
        slots, priorities = _last_of_each(np.asarray(slots, dtype=np.int64),
                                          np.asarray(priorities, dtype=np.float64))
        if not np.all(priorities >= 0):
            raise ValueError("priorities must be finite and >= 0")
        nodes = self.leaf_count + slots
        self.sums[nodes] = priorities
        self.minima[nodes] = priorities
        for _ in range(self.depth):
            nodes = nodes // 2
            left, right = 2 * nodes, 2 * nodes + 1
            self.sums[nodes] = self.sums[left] + self.sums[right]
            self.minima[nodes] = np.minimum(self.minima[left], self.minima[right])

    def find(self, masses) -> np.ndarray:
        """For each point in ``[0, total)``, the slot whose share of the total contains it.

        Slot k is chosen when ``sum(p[:k]) <= mass < sum(p[:k + 1])``. A branch
        whose sum is 0 is never entered, which also keeps a point that rounding
        pushed to the total (or past it) on the last slot with a priority.
        """
        masses = np.array(masses, dtype=np.float64)
        nodes = np.ones(masses.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * nodes
            left_sums = self.sums[left]
            go_right = (masses >= left_sums) & (self.sums[left + 1] > 0)
            masses -= left_sums * go_right
            nodes = left + go_right
        return nodes - self.leaf_count


def _last_of_each(slots: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated slots, keeping the value given last for each."""
    _, first_in_reversed = np.unique(slots[::-1], return_index=True)
    keep = len(slots) - 1 - first_in_reversed
    return slots[keep], values[keep]


@dataclass
class ReplayBatch:
    """A batch of ``b`` transitions, ready for a learning step.

    ``boards`` and ``next_boards`` are uint8 codes ``(b, height, width)``;
    ``state_values`` and ``next_state_values`` are float32 ``(b, state_size)``;
    ``weights`` are the importance-sampling weights that scale each sample's loss.
    """

    indices: np.ndarray            # int64 (b,): slots, for update_priorities
    boards: np.ndarray             # uint8 (b, height, width)
    state_values: np.ndarray       # float32 (b, state_size)
    actions: np.ndarray            # int64 (b,)
    rewards: np.ndarray            # float32 (b,)
    next_boards: np.ndarray        # uint8 (b, height, width)
    next_state_values: np.ndarray  # float32 (b, state_size)
    terminals: np.ndarray          # bool (b,): the game ended, do not bootstrap
    steps: np.ndarray              # uint8 (b,): rewards summed; bootstrap with gamma ** steps
    weights: np.ndarray            # float32 (b,): all 1 for uniform replay


class UniformReplay:
    """A ring of ``capacity`` transitions, each drawn with the same probability."""

    kind = "uniform"

    def __init__(self, capacity: int, board_shape: tuple[int, int], state_size: int,
                 seed: int | np.random.Generator):
        if capacity < 1:
            raise ValueError(f"a replay memory needs a capacity of at least 1, not {capacity}")
        self.capacity = capacity
        self.board_shape = tuple(board_shape)
        self.state_size = state_size
        self.rng = np.random.default_rng(seed)
        self.boards = np.zeros((capacity, *self.board_shape), dtype=np.uint8)
        self.state_values = np.zeros((capacity, state_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int16)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_boards = np.zeros((capacity, *self.board_shape), dtype=np.uint8)
        self.next_state_values = np.zeros((capacity, state_size), dtype=np.float32)
        self.terminals = np.zeros(capacity, dtype=bool)
        self.steps = np.ones(capacity, dtype=np.uint8)
        self.write_position = 0
        self.size = 0

    def _storage(self) -> dict[str, np.ndarray]:
        """The transition arrays by name (one row per slot)."""
        return {
            "boards": self.boards,
            "state_values": self.state_values,
            "actions": self.actions,
            "rewards": self.rewards,
            "next_boards": self.next_boards,
            "next_state_values": self.next_state_values,
            "terminals": self.terminals,
            "steps": self.steps,
        }

    @property
    def nbytes(self) -> int:
        """Bytes held by the memory's arrays."""
        return sum(array.nbytes for array in self._storage().values())

    def __len__(self) -> int:
        return self.size

    def push(self, board, state_values, action, reward, next_board, next_state_values,
             terminal, steps=1) -> None:
        """Store one transition in the oldest slot.

        ``board``/``next_board`` are integer codes of ``board_shape`` and
        ``state_values``/``next_state_values`` have ``state_size`` values (pass
        empty arrays when the agent sees no board or no state). ``terminal``
        is true only if the game itself ended, not if the episode was cut short.
        """
        slot = self.write_position
        self.boards[slot] = board
        self.state_values[slot] = state_values
        self.actions[slot] = action
        self.rewards[slot] = reward
        self.next_boards[slot] = next_board
        self.next_state_values[slot] = next_state_values
        self.terminals[slot] = terminal
        self.steps[slot] = steps
        self.write_position = (slot + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, beta: float = 1.0) -> ReplayBatch:
        """Draw ``batch_size`` transitions (with replacement) and their weights."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay memory")
        indices, weights = self._choose(batch_size, beta)
        return ReplayBatch(
            indices=indices,
            boards=self.boards[indices],
            state_values=self.state_values[indices],
            actions=self.actions[indices].astype(np.int64),
            rewards=self.rewards[indices],
            next_boards=self.next_boards[indices],
            next_state_values=self.next_state_values[indices],
            terminals=self.terminals[indices],
            steps=self.steps[indices],
            weights=weights,
        )

    def _choose(self, batch_size: int, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """Uniform: any filled slot, equally likely; every weight is 1."""
        indices = self.rng.integers(0, self.size, size=batch_size, dtype=np.int64)
        return indices, np.ones(batch_size, dtype=np.float32)

    def update_priorities(self, indices, td_errors) -> None:
        """Uniform replay keeps no priorities: nothing to do."""

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to resume this memory exactly, as plain numpy arrays."""
        arrays = dict(self._storage())
        arrays["kind"] = np.array(self.kind)
        arrays["write_position"] = np.array(self.write_position, dtype=np.int64)
        arrays["size"] = np.array(self.size, dtype=np.int64)
        arrays["rng_state"] = np.array(json.dumps(self.rng.bit_generator.state))
        return arrays

    def load_state_arrays(self, arrays) -> None:
        """Restore what ``state_arrays()`` exported; CheckpointError if it does not fit.

        Everything is checked before anything changes, so a memory that does
        not fit leaves this one as it was.
        """
        self._check_fits(arrays)
        self._restore(arrays)

    def _check_fits(self, arrays) -> None:
        """Raise CheckpointError unless ``arrays`` is a memory of this kind and shape."""
        saved_kind = str(_required(arrays, "kind"))
        if saved_kind != self.kind:
            raise CheckpointError(
                f"The saved replay memory is {saved_kind} but this run's is {self.kind} "
                "(prioritize_experiences changed). Start this run with an empty memory, "
                "or set prioritize_experiences back.")
        for name, array in self._storage().items():
            saved_shape = _required(arrays, name).shape
            if saved_shape != array.shape:
                raise CheckpointError(
                    f"The saved replay memory's {name} have shape {saved_shape}, but this "
                    f"memory holds {array.shape} (memory_capacity, board or observed state "
                    "changed). Start this run with an empty memory.")
        write_position = int(_required(arrays, "write_position"))
        size = int(_required(arrays, "size"))
        if not (0 <= write_position < self.capacity and 0 <= size <= self.capacity):
            raise CheckpointError(
                f"The saved replay memory is damaged: write position {write_position} and "
                f"size {size} do not fit its capacity {self.capacity}. Start this run with "
                "an empty memory.")
        _required(arrays, "rng_state")

    def _restore(self, arrays) -> None:
        """Copy checked ``arrays`` into this memory, the random generator's state first."""
        rng_json = str(np.asarray(arrays["rng_state"]))
        try:
            self.rng.bit_generator.state = json.loads(rng_json)
        except (ValueError, TypeError, KeyError) as error:
            raise CheckpointError(
                f"The saved replay memory's random generator state cannot be restored "
                f"({error}). Start this run with an empty memory.") from None
        for name, array in self._storage().items():
            array[...] = arrays[name]
        self.write_position = int(arrays["write_position"])
        self.size = int(arrays["size"])


def _required(arrays, name: str) -> np.ndarray:
    """``arrays[name]`` as an ndarray, or CheckpointError if the saved memory lacks it."""
    if name not in arrays:
        raise CheckpointError(
            f"The saved replay memory has no '{name}' array: it was written by another "
            "version or is damaged. Start this run with an empty memory.")
    return np.asarray(arrays[name])


class PrioritizedReplay(UniformReplay):
    """Replay that draws transitions in proportion to ``(|td_error| + eps) ** alpha``.

    ``priority_eps`` is 1e-3 rather than a vanishing 1e-6 because the smallest
    priority sets the largest weight, and every weight is divided by it. One
    transition whose TD error happened to be almost 0 would, with 1e-6, have
    priority (1e-6) ** 0.6 = 2.5e-4, and at beta = 1 scale every typical
    transition's weight (priority about 1) down by a factor of 4000: learning
    would nearly stop. With 1e-3 the floor is (1e-3) ** 0.6 = 0.016. It is
    also well above float32 noise in TD errors of rewards that are whole
    numbers.
    """

    kind = "prioritized"

    def __init__(self, capacity: int, board_shape: tuple[int, int], state_size: int,
                 seed: int | np.random.Generator, alpha: float = 0.6,
                 priority_eps: float = 1e-3):
        super().__init__(capacity, board_shape, state_size, seed)
        self.alpha = alpha
        self.priority_eps = priority_eps
        self.tree = SumTree(capacity)
        self.max_priority = 1.0

    @property
    def nbytes(self) -> int:
        """Bytes held by the memory's arrays, the two trees included."""
        return super().nbytes + self.tree.sums.nbytes + self.tree.minima.nbytes

    def push(self, board, state_values, action, reward, next_board, next_state_values,
             terminal, steps=1) -> None:
        """Store one transition at the largest priority so far: it will be drawn soon."""
        slot = self.write_position
        super().push(board, state_values, action, reward, next_board, next_state_values,
                     terminal, steps)
        self.tree.set(slot, self.max_priority)

    def _choose(self, batch_size: int, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """One draw in each of ``batch_size`` equal slices of the total priority."""
        total = self.tree.total
        slice_width = total / batch_size
        masses = (np.arange(batch_size) + self.rng.random(batch_size)) * slice_width
        indices = self.tree.find(masses)
        probabilities = self.tree.priorities(indices) / total
        weights = (self.size * probabilities) ** -beta
        largest_weight = (self.size * self.tree.min_priority / total) ** -beta
        return indices, (weights / largest_weight).astype(np.float32)

    def update_priorities(self, indices, td_errors) -> None:
        """After a learning step: ``p_i = (|td_error_i| + eps) ** alpha`` for the batch."""
        td_errors = np.asarray(td_errors, dtype=np.float64)
        if not np.all(np.isfinite(td_errors)):
            raise TrainingError(
                "The TD errors became NaN or infinite: the network diverged. Lower "
                "learning_rate in config.toml and train again.")
        priorities = (np.abs(td_errors) + self.priority_eps) ** self.alpha
        self.tree.update(indices, priorities)
        self.max_priority = max(self.max_priority, float(priorities.max()))

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The transitions plus the priorities (both trees) and the largest priority."""
        arrays = super().state_arrays()
        arrays["tree_sums"] = self.tree.sums.copy()
        arrays["tree_minima"] = self.tree.minima.copy()
        arrays["max_priority"] = np.array(self.max_priority, dtype=np.float64)
        return arrays

    def _check_fits(self, arrays) -> None:
        """The uniform checks, plus trees of this capacity."""
        super()._check_fits(arrays)
        for name in ("tree_sums", "tree_minima"):
            saved_shape = _required(arrays, name).shape
            if saved_shape != self.tree.sums.shape:
                raise CheckpointError(
                    f"The saved replay memory's priority tree has shape {saved_shape}, but "
                    f"this memory's has {self.tree.sums.shape} (memory_capacity changed). "
                    "Start this run with an empty memory.")
        _required(arrays, "max_priority")

    def _restore(self, arrays) -> None:
        """The transitions, then the priorities."""
        super()._restore(arrays)
        self.tree.sums[...] = arrays["tree_sums"]
        self.tree.minima[...] = arrays["tree_minima"]
        self.max_priority = float(arrays["max_priority"])


def make_replay(prioritized: bool, capacity: int, board_shape: tuple[int, int],
                state_size: int, seed: int | np.random.Generator) -> UniformReplay:
    """The replay memory ``prioritize_experiences`` asks for."""
    if prioritized:
        return PrioritizedReplay(capacity, board_shape, state_size, seed)
    return UniformReplay(capacity, board_shape, state_size, seed)
