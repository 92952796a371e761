"""How fast is the numpy network on this machine?

Prints, for batch 64:

* one full training step (forward, Huber loss, backward, Adam) of the
  default Snake MLP (16x32 board, 6 codes, 2 state values, hidden [128, 64],
  5 actions), fed once as a dense one-hot array through a plain Linear and
  once as board codes through CodeLinear;
* the same step for a small CNN on that board (channels 16 and 32, then the
  same MLP head);
* choosing an action: predict on one observation, then argmax;
* CodeLinear's two routes (row lookup, dense product) as the board fills up;
* the same for the CNN's first convolution, CodeConv2d (lookup or product),
  and for its second, Conv2d (only the changed pixels, or every pixel) as
  the changed pixels spread;
* numpy's raw float32 matrix-multiply speed, for comparison.

Like training, it runs numpy's linear algebra on one thread: retro_gamer is
imported before numpy, so its setting (see retro_gamer/__init__.py) is made
before numpy loads OpenBLAS.

Each figure is the best of several repeats (other programs share the CPU).
Run:  python3 benchmarks/bench_nn.py
"""

import time

import retro_gamer  # noqa: F401  (first: one OpenBLAS thread, as in training)

import numpy as np

from retro_gamer.nn import Adam, CodeConv2d, CodeLinear, Linear, QNetwork, ReLU, fast, huber_loss, one_hot
from retro_gamer.nn.changed_pixels import ChangedPixelsConv2d, spread

BATCH_SIZE = 64
BOARD_SHAPE = (16, 32)
NUM_CODES = 6
STATE_SIZE = 2
NUM_ACTIONS = 5
HIDDEN_SIZES = [128, 64]
CONV_CHANNELS = [16, 32]


def best_seconds(function, calls, repeats=7):
    """Best over ``repeats`` of the mean time of ``calls`` calls."""
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def snake_boards(rng, count):
    """Snake-like boards: a snake of 3-15 cells walking at random, and an apple."""
    height, width = BOARD_SHAPE
    boards = np.zeros((count, height, width), dtype=np.uint8)
    moves = [(0, 1), (0, -1), (1, 0), (-1, 0)]
    for board in boards:
        y, x = int(rng.integers(height)), int(rng.integers(width))
        board[y, x] = int(rng.integers(3, NUM_CODES + 1))  # the head, one of > < ^ v
        for _ in range(int(rng.integers(2, 15))):
            dy, dx = moves[int(rng.integers(4))]
            y, x = (y + dy) % height, (x + dx) % width
            if board[y, x] == 0:
                board[y, x] = 2  # body
        apple_y, apple_x = int(rng.integers(height)), int(rng.integers(width))
        if board[apple_y, apple_x] == 0:
            board[apple_y, apple_x] = 1
    return boards


class DenseOneHotMLP:
    """The Snake MLP fed the dense one-hot array through a plain Linear layer."""

    def __init__(self, rng):
        in_features = NUM_CODES * BOARD_SHAPE[0] * BOARD_SHAPE[1] + STATE_SIZE
        sizes = [in_features] + HIDDEN_SIZES + [NUM_ACTIONS]
        self.layers = []
        for in_size, out_size in zip(sizes[:-1], sizes[1:]):
            self.layers += [Linear(in_size, out_size, rng), ReLU()]
        self.layers.pop()  # no ReLU after the Q-values

    def inputs(self, boards, state_values):
        flat_one_hot = one_hot(boards, NUM_CODES).reshape(len(boards), -1)
        return np.concatenate([flat_one_hot, state_values], axis=1)

    def forward(self, boards, state_values):
        values = self.inputs(boards, state_values)
        for layer in self.layers:
            values = layer.forward(values)
        return values

    def predict(self, boards, state_values):
        values = self.inputs(boards, state_values)
        for layer in self.layers:
            values = layer.predict(values)
        return values

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def parameters(self):
        return [array for layer in self.layers for array in layer.parameters().values()]

    def gradients(self):
        return [array for layer in self.layers for array in layer.gradients().values()]


def training_step_seconds(network, rng, calls):
    boards = snake_boards(rng, BATCH_SIZE)
    state_values = rng.uniform(-1, 1, (BATCH_SIZE, STATE_SIZE)).astype(np.float32)
    actions = rng.integers(NUM_ACTIONS, size=BATCH_SIZE)
    targets = rng.standard_normal(BATCH_SIZE).astype(np.float32)
    rows = np.arange(BATCH_SIZE)
    optimizer = Adam(network.parameters(), learning_rate=1e-4)

    def step():
        q_values = network.forward(boards, state_values)
        _, grad_taken = huber_loss(q_values[rows, actions], targets)
        grad_q_values = np.zeros_like(q_values)
        grad_q_values[rows, actions] = grad_taken
        network.backward(grad_q_values)
        optimizer.step(network.gradients())

    return best_seconds(step, calls)


def choose_action_seconds(network, rng):
    board = snake_boards(rng, 1)
    state_value = rng.uniform(-1, 1, (1, STATE_SIZE)).astype(np.float32)

    def choose():
        return int(np.argmax(network.predict(board, state_value)[0]))

    return best_seconds(choose, 2000)


def matmul_gflops():
    size = 1024
    rng = np.random.default_rng(0)
    left = rng.standard_normal((size, size), dtype=np.float32)
    right = rng.standard_normal((size, size), dtype=np.float32)
    seconds = best_seconds(lambda: left @ right, 10)
    return 2 * size**3 / seconds / 1e9


def with_threshold(name, value, function):
    """function() with fast.<name> set to value (the route choices of nn/fast.py), then put back."""
    saved = getattr(fast, name)
    setattr(fast, name, value)
    try:
        return function()
    finally:
        setattr(fast, name, saved)


def code_linear_route_seconds(occupied, lookup_until, rng):
    """CodeLinear forward + backward, batch 64, forced onto one route."""
    height, width = BOARD_SHAPE
    layer = CodeLinear(NUM_CODES, BOARD_SHAPE, HIDDEN_SIZES[0], rng)
    codes = rng.integers(1, NUM_CODES + 1, size=(BATCH_SIZE, height, width)).astype(np.uint8)
    codes[rng.random(codes.shape) >= occupied] = 0
    grad_out = np.ones((BATCH_SIZE, HIDDEN_SIZES[0]), dtype=np.float32)

    def forward_backward():
        layer.forward(codes)
        layer.backward(grad_out)

    # lookup_until 0: always the dense product, 1: always the lookup
    return with_threshold("LINEAR_LOOKUP_UNTIL", lookup_until, lambda: best_seconds(forward_backward, 20))


def code_conv_route_seconds(occupied, lookup_until, rng):
    """CodeConv2d forward + backward, batch 64 and the empty reference board, forced onto one route."""
    height, width = BOARD_SHAPE
    layer = CodeConv2d(NUM_CODES, BOARD_SHAPE, CONV_CHANNELS[0], rng)
    codes = rng.integers(1, NUM_CODES + 1, size=(BATCH_SIZE + 1, height, width)).astype(np.uint8)
    codes[rng.random(codes.shape) >= occupied] = 0
    grad_out = np.ones((BATCH_SIZE + 1, CONV_CHANNELS[0], height, width), dtype=np.float32)

    def forward_backward():
        layer.forward(codes)
        layer.backward(grad_out)

    # lookup_until 0: always the dense product, 1: always the lookup
    return with_threshold("CONV_LOOKUP_UNTIL", lookup_until, lambda: best_seconds(forward_backward, 10))


def changed_pixels_seconds(occupied, changed_until, rng):
    """The second convolution's forward + backward, batch 64 and the reference, forced onto one route.

    Returns the share of the output pixels the changed-pixel route computes
    (the reference's included) and the seconds.
    """
    height, width = BOARD_SHAPE
    layer = ChangedPixelsConv2d(CONV_CHANNELS[0], CONV_CHANNELS[1], rng)
    occupied_cells = rng.random((BATCH_SIZE + 1, height, width)) < occupied
    occupied_cells[-1] = False  # the reference board is empty
    changed = spread(occupied_cells, 1)  # what the first convolution changes
    inputs = rng.random((BATCH_SIZE + 1, CONV_CHANNELS[0], height, width), dtype=np.float32)
    grad_out = np.ones((BATCH_SIZE + 1, CONV_CHANNELS[1], height, width), dtype=np.float32)

    def forward_backward():
        layer.forward_where_changed(inputs, changed)
        layer.backward(grad_out)

    computed = (np.count_nonzero(spread(changed, 1)[:-1]) + height * width) / changed.size
    # changed_until 0: every pixel, 1: only the changed ones
    return computed, with_threshold("CHANGED_PIXELS_UNTIL", changed_until, lambda: best_seconds(forward_backward, 5))


def report(label, seconds, unit, target=""):
    scale = {"ms": 1e3, "us": 1e6}[unit]
    print(f"{label:<52}{seconds * scale:9.3f} {unit}   {target}".rstrip())


def main():
    rng = np.random.default_rng(0)
    dense = DenseOneHotMLP(rng)
    codes = QNetwork(BOARD_SHAPE, NUM_CODES, STATE_SIZE, NUM_ACTIONS, HIDDEN_SIZES, rng=rng)
    cnn = QNetwork(BOARD_SHAPE, NUM_CODES, STATE_SIZE, NUM_ACTIONS, HIDDEN_SIZES, CONV_CHANNELS, rng=rng)
    print(
        f"batch {BATCH_SIZE}, board {BOARD_SHAPE[0]}x{BOARD_SHAPE[1]}, {NUM_CODES} codes, "
        f"{STATE_SIZE} state values, hidden {HIDDEN_SIZES}, {NUM_ACTIONS} actions"
    )
    report("training step, Snake MLP, dense one-hot + Linear", training_step_seconds(dense, rng, 200), "ms")
    report("training step, Snake MLP, codes + CodeLinear", training_step_seconds(codes, rng, 200), "ms", "(target < 1.5 ms)")
    report(f"training step, CNN {CONV_CHANNELS} + MLP head", training_step_seconds(cnn, rng, 10), "ms", "(target < 40 ms)")
    report("choose an action, Snake MLP, CodeLinear", choose_action_seconds(codes, rng), "us", "(target < 25 us)")
    report("choose an action, Snake MLP, dense one-hot", choose_action_seconds(dense, rng), "us")
    report("choose an action, CNN", choose_action_seconds(cnn, rng), "us")
    print(f"CodeLinear forward + backward by share of occupied cells (switches at {fast.LINEAR_LOOKUP_UNTIL:.0%}):")
    for occupied in (0.01, 0.02, 0.04, 0.1, 0.3):
        lookup = code_linear_route_seconds(occupied, 1.0, rng)
        product = code_linear_route_seconds(occupied, 0.0, rng)
        print(f"  {occupied:4.0%} occupied: lookup {lookup * 1e6:7.0f} us, dense product {product * 1e6:7.0f} us")
    print(f"CodeConv2d forward + backward by share of occupied cells (switches at {fast.CONV_LOOKUP_UNTIL:.0%}):")
    for occupied in (0.02, 0.05, 0.1, 0.2):
        lookup = code_conv_route_seconds(occupied, 1.0, rng)
        product = code_conv_route_seconds(occupied, 0.0, rng)
        print(f"  {occupied:4.0%} occupied: lookup {lookup * 1e3:7.2f} ms, dense product {product * 1e3:7.2f} ms")
    print(f"Conv2d {CONV_CHANNELS[0]}->{CONV_CHANNELS[1]} forward + backward by share of pixels to compute "
          f"(switches at {fast.CHANGED_PIXELS_UNTIL:.0%}):")
    for occupied in (0.01, 0.02, 0.04, 0.06):
        computed, changed_only = changed_pixels_seconds(occupied, 1.0, rng)
        _, every_pixel = changed_pixels_seconds(occupied, 0.0, rng)
        print(f"  {computed:4.0%} to compute: changed pixels {changed_only * 1e3:7.2f} ms, "
              f"every pixel {every_pixel * 1e3:7.2f} ms")
    print(f"{'numpy float32 matmul 1024x1024':<52}{matmul_gflops():9.1f} GFLOP/s")


if __name__ == "__main__":
    main()
