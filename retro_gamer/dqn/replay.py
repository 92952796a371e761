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
of the sum tree, so a batch costs O(batch_size * log N).

Where the priorities live
-------------------------
The priorities sit in a sum tree (``sum_tree.py``), which finds the slot
under a point of the total, and keeps the total and the smallest priority,
in O(log N).

Saving the memory, so that a resumed run draws exactly the batches the
uninterrupted run would have drawn, is not the memory's business:
``run/checkpoint.py`` turns it into plain arrays and back.
"""

from dataclasses import dataclass

import numpy as np

from retro_gamer.dqn.sum_tree import SumTree
from retro_gamer.errors import TrainingError


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

    def transition_arrays(self) -> dict[str, np.ndarray]:
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
        return sum(array.nbytes for array in self.transition_arrays().values())

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
        self.tree.update(slot, self.max_priority)

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


def make_replay(prioritized: bool, capacity: int, board_shape: tuple[int, int],
                state_size: int, seed: int | np.random.Generator) -> UniformReplay:
    """The replay memory ``prioritize_experiences`` asks for."""
    if prioritized:
        return PrioritizedReplay(capacity, board_shape, state_size, seed)
    return UniformReplay(capacity, board_shape, state_size, seed)
