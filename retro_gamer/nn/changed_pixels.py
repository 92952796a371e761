"""Only the changed pixels: a convolution computed where a sample differs from an empty board.

The second fast route of a spatial network (``fast.py`` has the first, the
code lookups, and decides when each route is taken). Behind the first
convolution every sample is a mostly empty board seen through one
convolution: at most pixels its feature maps are exactly what an *empty*
board gives. So one empty board goes through the convolutions with the
batch (``BesideEmptyBoard``), and every convolution after the first
computes the empty board in full but the other samples only where they may
differ from it (``ChangedPixelsConv2d``): 13% of the pixels of a Snake
batch after two layers.

``ChangedPixelsConv2d``   ``Conv2d``, computing only the pixels that differ from the last sample
``BesideEmptyBoard``      a chain of convolutions and ReLUs run beside an empty board

The helpers below treat the padded input as one row of channels per pixel,
so that a window is ``k*k`` rows and ``np.take`` gathers every window at once.
"""

import numpy as np

from retro_gamer.nn.fast import changed_pixels_pay, empty_board_pays
from retro_gamer.nn.layers import Conv2d



def spread(changed, radius):
    """Where a k x k window (k = 2*radius + 1) around each pixel holds a True of ``changed``.

    ``changed`` is boolean ``(batch, height, width)``; so is the result. A
    convolution's output pixel reads the input pixels of its window, so if
    ``changed`` marks the input pixels that differ from some reference, the
    result marks the output pixels that can differ. One OR per window
    offset, over the whole batch at once.
    """
    batch, height, width = changed.shape
    padded = np.zeros((batch, height + 2 * radius, width + 2 * radius), dtype=bool)
    padded[:, radius : radius + height, radius : radius + width] = changed
    result = np.zeros_like(changed)
    for i in range(2 * radius + 1):
        for j in range(2 * radius + 1):
            result |= padded[:, i : i + height, j : j + width]
    return result


def padded_rows(inputs, kernel_size):
    """The padded input with one row of channels per pixel: (batch*(h+2p)*(w+2p), channels)."""
    batch, channels, height, width = inputs.shape
    pad = kernel_size // 2
    padded = np.zeros((batch, height + 2 * pad, width + 2 * pad, channels), dtype=inputs.dtype)
    padded[:, pad : pad + height, pad : pad + width] = inputs.transpose(0, 2, 3, 1)
    return padded.reshape(-1, channels)


def window_starts(input_shape, pixels, kernel_size):
    """Where the windows of ``pixels`` are read, in the rows of ``padded_rows``.

    Padded pixel ``(n, u, v)`` is row ``(n*(h+2p) + u)*(w+2p) + v``. Window
    offset ``(i, j)`` of output pixel ``(n, r, s)`` is padded pixel ``(n,
    r+i, s+j)``: the row of offset (0, 0) plus ``i*(w+2p) + j``. Returns
    those first rows (pixels,) and the k*k offsets, in (i, j) order.
    """
    _, _, height, width = input_shape
    k = kernel_size
    padded_height, padded_width = height + k - 1, width + k - 1
    samples, rows, columns = pixels
    first_rows = (samples * padded_height + rows) * padded_width + columns
    offsets = (np.arange(k).reshape(k, 1) * padded_width + np.arange(k)).reshape(-1)
    return first_rows, offsets


def window_rows(rows_of_padded, input_shape, pixels, kernel_size):
    """The windows of ``pixels`` only, one row each: (pixels, k*k*channels), in (i, j, channel) order.

    ``np.take`` copies whole rows of the padded input, every window at once.
    """
    first_rows, offsets = window_starts(input_shape, pixels, kernel_size)
    windows = np.take(rows_of_padded, first_rows[:, np.newaxis] + offsets, axis=0)
    return windows.reshape(len(first_rows), len(offsets) * rows_of_padded.shape[1])


def add_back_windows(grad_rows, grad_windows, input_shape, pixels, kernel_size):
    """Add each window's gradient (pixels, k*k*channels) to the padded rows it was read from.

    Within one offset (i, j) no two windows read the same padded pixel,
    so a plain ``+=`` on the indexed rows is right (it would keep only one
    of repeated indices); the k*k offsets are added one after the other.
    """
    first_rows, offsets = window_starts(input_shape, pixels, kernel_size)
    grad_windows = grad_windows.reshape(len(first_rows), len(offsets), grad_rows.shape[1])
    for index, offset in enumerate(offsets):
        grad_rows[first_rows + offset] += grad_windows[:, index]


def reference_pixels(input_shape):
    """Every pixel of the last sample, the reference, as (samples, rows, columns)."""
    batch, _, height, width = input_shape
    rows, columns = np.divmod(np.arange(height * width), width)
    return np.full(height * width, batch - 1), rows, columns


class ChangedPixelsConv2d(Conv2d):
    """Computes what ``Conv2d`` computes, told where each sample differs from the last one.

    tests/test_nn_fast.py: ``test_changed_pixels_match_direct_convolution``
    checks the values, ``test_changed_pixels_give_the_full_convolutions_parameter_gradients``
    the parameter gradients against ``Conv2d``'s, and
    ``test_changed_pixels_gradients`` the exact gradients of this route, in float64.

    ``forward`` and ``predict`` are ``Conv2d``'s. ``forward_where_changed(x,
    changed)`` takes ``changed`` (batch, height, width): True where a sample
    may differ from the last sample, the *reference*. An output pixel whose
    window holds no changed pixel equals the reference's output at the same
    place, so only the pixels of ``spread(changed, p)`` are computed, from
    their windows alone:

        y[n, :, r, s] = y[reference, :, r, s]                  unchanged pixels
        y[n, :, r, s] = b + K_rows @ window(n, r, s)           changed pixels

    The reference itself is computed in full. Here a window is a row of
    ``k*k*in_channels`` values (``window_rows``), and ``K_rows`` is K in the
    same order (``weight_rows``).

    That is the function this route computes; its backward is the exact
    gradient of it. The gradient ``G`` of an unchanged pixel goes to the
    reference's pixel, so with ``G_ref`` the gradients summed over the
    samples where a pixel is unchanged (one "board" of sums),

        dL/dK_rows   = G_changed^T @ changed windows + G_ref^T @ reference windows
        dL/dwindow   = G @ K_rows                  (for each computed window)
        dL/dx        = each window's gradient added back where the window
                       was read (one vectorised add per offset (i, j))

    so an input pixel that no computed window read gets gradient zero. When
    the reference is computed from the same parameters as the other samples
    (``BesideEmptyBoard``), the parameters get exactly the gradients the full
    convolution would give them. When ``changed_pixels_pay`` says no, the
    layer computes every pixel, as ``Conv2d``.
    """

    def __init__(self, in_channels, out_channels, rng, kernel_size=3, dtype=np.float32):
        super().__init__(in_channels, out_channels, rng, kernel_size, dtype)
        # The cache of this route: the pixels computed and the windows read.
        self.pixels = None
        self.windows = None
        self.reference_windows = None

    def changed_pixels(self, changed):
        """The output pixels to compute, as (samples, rows, columns); None to compute them all."""
        changed_outputs = spread(changed, self.kernel_size // 2)
        changed_outputs[-1] = False  # the reference is computed in full, separately
        pixels_to_compute = np.count_nonzero(changed_outputs) + changed_outputs[-1].size
        if not changed_pixels_pay(pixels_to_compute, changed_outputs.size):
            return None
        return changed_outputs.nonzero()

    def weight_rows(self):
        """K as (out_channels, k*k*in_channels), in the (i, j, channel) order of ``window_rows``."""
        return self.weight.transpose(0, 2, 3, 1).reshape(self.out_channels, -1)

    def convolve_changed(self, inputs, pixels):
        """y: the reference's output everywhere, then the changed pixels from their windows.

        Returns y and the windows it read (changed pixels, reference pixels).
        """
        batch, _, height, width = inputs.shape
        k = self.kernel_size
        rows_of_padded = padded_rows(inputs, k)
        windows = window_rows(rows_of_padded, inputs.shape, pixels, k)
        reference_windows = window_rows(rows_of_padded, inputs.shape, reference_pixels(inputs.shape), k)
        weight_rows = self.weight_rows()
        reference_outputs = reference_windows @ weight_rows.T + self.bias  # (height*width, out_channels)
        # Every sample starts as the reference's maps; copied as one row per
        # sample (a row of out_channels*height*width values copies fastest).
        outputs = np.empty((batch, self.out_channels * height * width), dtype=self.weight.dtype)
        outputs[...] = reference_outputs.T.reshape(-1)
        outputs = outputs.reshape(batch, self.out_channels, height, width)
        samples, rows, columns = pixels
        # Indexing (n, :, r, s) with arrays puts the pixels first: (pixels, out_channels).
        outputs[samples, :, rows, columns] = windows @ weight_rows.T + self.bias
        return outputs, windows, reference_windows

    def predict_where_changed(self, inputs, changed):
        pixels = self.changed_pixels(changed)
        if pixels is None:
            return self.predict(inputs)
        return self.convolve_changed(inputs, pixels)[0]

    def forward_where_changed(self, inputs, changed):
        pixels = self.changed_pixels(changed)
        if pixels is None:
            return self.forward(inputs)
        self.input_shape = inputs.shape
        self.columns = None
        self.pixels = pixels
        outputs, self.windows, self.reference_windows = self.convolve_changed(inputs, pixels)
        return outputs

    def forward(self, inputs):
        self.pixels = self.windows = self.reference_windows = None
        return super().forward(inputs)

    def backward(self, grad_outputs):
        if self.pixels is None:
            return super().backward(grad_outputs)
        batch, _, height, width = grad_outputs.shape
        samples, rows, columns = self.pixels
        changed_grads = grad_outputs[samples, :, rows, columns]  # (pixels, out_channels)
        unchanged = np.ones((batch, height, width), dtype=grad_outputs.dtype)
        unchanged[samples, rows, columns] = 0
        reference_grads = np.einsum("nohw,nhw->ohw", grad_outputs, unchanged).reshape(self.out_channels, -1).T
        np.add(changed_grads.sum(axis=0), reference_grads.sum(axis=0), out=self.grad_bias)
        grad_weight_rows = changed_grads.T @ self.windows + reference_grads.T @ self.reference_windows
        k = self.kernel_size
        grad_weight = grad_weight_rows.reshape(self.out_channels, k, k, self.in_channels)
        self.grad_weight[...] = grad_weight.transpose(0, 3, 1, 2)
        weight_rows = self.weight_rows()
        pad = k // 2
        grad_padded = np.zeros((batch, height + 2 * pad, width + 2 * pad, self.in_channels), dtype=grad_outputs.dtype)
        grad_rows = grad_padded.reshape(-1, self.in_channels)
        add_back_windows(grad_rows, changed_grads @ weight_rows, self.input_shape, self.pixels, k)
        add_back_windows(grad_rows, reference_grads @ weight_rows, self.input_shape, reference_pixels(self.input_shape), k)
        return grad_padded[:, pad : pad + height, pad : pad + width].transpose(0, 3, 1, 2)


# -- the convolutions of a board, beside an empty one --------------------------------------


class BesideEmptyBoard:
    """Computes what its layers compute one after the other, with fewer pixels.

    tests/test_nn_fast.py: ``test_beside_empty_board_computes_the_plain_chain``
    checks the values and gradients against the same layers run one after
    the other (and tests/test_nn_network.py the whole network's gradients).

    ``layers`` is a ``CodeConv2d``, a ``ReLU``, then ``ChangedPixelsConv2d``
    and ``ReLU`` pairs: board codes in, feature maps out. A board is mostly
    empty, so its feature maps are mostly what an empty board gives. One
    empty board goes through the layers with the batch, as its last sample
    (the reference), and ``changed`` follows the pixels where a sample's
    maps may differ from the reference's: first the occupied cells, then
    ``spread`` by each convolution's reach. Every convolution after the
    first (which looks up the occupied cells itself) computes only those
    pixels. The reference's maps are dropped at the end, and its gradient
    is zero (it fed nothing further). For batches where
    ``empty_board_pays`` says no, the layers simply run one after the other.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.first_conv, self.first_relu = self.layers[:2]
        self.later_pairs = list(zip(self.layers[2::2], self.layers[3::2]))
        self.empty_board_added = False  # the cache: for backward

    def parameters(self):
        """Each layer's parameters, named by its place in ``layers``: ``0.weight``..."""
        return {f"{place}.{name}": array for place, layer in enumerate(self.layers)
                for name, array in layer.parameters().items()}

    def gradients(self):
        return {f"{place}.{name}": array for place, layer in enumerate(self.layers)
                for name, array in layer.gradients().items()}

    def with_empty_board(self, boards):
        empty_board = np.zeros((1,) + boards.shape[1:], dtype=boards.dtype)
        return np.concatenate([boards, empty_board])

    def forward(self, boards):
        self.empty_board_added = empty_board_pays(len(boards))
        return self.run(boards, self.empty_board_added, training=True)

    def predict(self, boards):
        return self.run(boards, empty_board_pays(len(boards)), training=False)

    def run(self, boards, beside_empty_board, training):
        """The feature maps: each layer's ``forward`` when training (it keeps its cache), else ``predict``."""
        if not beside_empty_board:
            features = boards
            for layer in self.layers:
                features = layer.forward(features) if training else layer.predict(features)
            return features
        boards = self.with_empty_board(boards)
        changed = boards != 0  # where a sample may differ from the empty board
        first_maps = self.first_conv.forward(boards) if training else self.first_conv.predict(boards)
        features = self.first_relu.forward(first_maps) if training else self.first_relu.predict(first_maps)
        previous_conv = self.first_conv
        for conv, relu in self.later_pairs:
            changed = spread(changed, previous_conv.kernel_size // 2)
            if training:
                features = relu.forward(conv.forward_where_changed(features, changed))
            else:
                features = relu.predict(conv.predict_where_changed(features, changed))
            previous_conv = conv
        return features[:-1]

    def backward(self, grad_outputs):
        if self.empty_board_added:
            grad_outputs = np.concatenate([grad_outputs, np.zeros_like(grad_outputs[:1])])
        for layer in reversed(self.layers):
            grad_outputs = layer.backward(grad_outputs)
        return grad_outputs
