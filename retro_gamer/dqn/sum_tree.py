"""The sum tree: drawing slot ``i`` with probability ``p_i / sum_k p_k`` in O(log N).

Prioritized replay draws a transition in proportion to its priority. Finding
"the slot whose share of the total contains the point ``m``" in a plain list
takes O(N). A sum tree does it in O(log N): a complete binary tree whose
leaves hold the priorities and whose every inner node holds the sum of its
two children, so the root holds the total. For capacity 4 with priorities
3, 1, 0, 2 (nodes numbered from 1; node k has children 2k, 2k+1)::

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
falls off the end. The tree is kept in float64 for the same reason. (So the
tree depends only on its leaves: however the priorities were written, the
same leaves give the same tree, bit for bit.)

A second tree of the same shape holds minima instead of sums, so the smallest
priority (needed for the largest importance weight) is always at its root.

Like the segment tree of OpenAI baselines, each tree lives in one flat
array. Node 0 is unused: that keeps the arithmetic simple (children of k are
``2k`` and ``2k + 1``, parent ``k // 2``). The capacity is padded up to a
power of two so that slot ``k`` always sits at node ``leaf_count + k`` and the
leaves read left to right in slot order; padding leaves hold priority 0 (and
+inf in the minimum tree) and are never drawn.

There is one way to write priorities, ``update``, for one slot (when a
transition is stored) or for a whole batch (after a learning step). It walks
the tree one *level* at a time, all the batch's nodes of a level in one numpy
step, so the Python loop runs log2(capacity) times and numpy does the
per-sample work; ``find`` searches a batch of points the same way.
"""

import numpy as np


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

    def update(self, slots, priorities) -> None:
        """Set the priority of one slot (an int and a float) or of many (two arrays).

        A slot given twice keeps its last priority. The leaves change first,
        then each level of parents is recomputed from its children, from the
        leaves up to the root.
        """
        if isinstance(slots, (int, np.integer)):
            slots, priorities = int(slots), float(priorities)  # plain numbers: 2x faster per level
        else:
            slots, priorities = _last_of_each(np.asarray(slots, dtype=np.int64),
                                              np.asarray(priorities, dtype=np.float64))
        if not np.asarray(priorities >= 0).all():  # false for NaN too
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
