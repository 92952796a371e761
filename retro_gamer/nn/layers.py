"""The building blocks of the Q-network, each with a hand-written backward pass.

A network is a chain of functions ``y = f(x; parameters)``. Training needs,
for a scalar loss ``L``, the gradient of ``L`` with respect to every
parameter. Backpropagation gets them with the chain rule, one layer at a
time, from the last layer to the first:

    given  dL/dy  (``grad_out``, same shape as the layer's output y)
    fill   dL/dparameter  for each parameter of the layer
    return dL/dx  (``grad_in``, same shape as the layer's input x)

So every layer here has three methods:

``forward(x)``
    computes ``y`` and keeps what ``backward`` will need (the cache).
``backward(grad_out)``
    uses that cache to write the parameter gradients into preallocated
    arrays (``gradients()``; the optimizer holds references to them) and
    returns ``dL/dx`` (None for ``CodeLinear`` and ``CodeConv2d``, whose
    input is integer codes, and for a ``Conv2d`` made with
    ``input_gradient=False``).
``predict(x)``
    computes ``y`` without touching the cache. DQN runs the network on the
    next states (and when choosing actions) between a ``forward`` and its
    ``backward``; with a single cached method that second pass would
    silently replace what ``backward`` needs.

Every layer computes in the dtype of its inputs and parameters: float32 for
training, float64 when the tests compare gradients with finite differences
(which are meaningless in float32).

The layers:

``Linear``      y = x W + b                          (batch, in) -> (batch, out)
``CodeLinear``  the same function on one-hot board codes, without building
                the one-hot array                     (batch, h, w) -> (batch, out)
``ReLU``        y = max(x, 0)
``Flatten``     (batch, ...) -> (batch, features)
``Conv2d``      k x k "same" convolution (k = 3 by default) by im2col
                                                      (batch, c, h, w) -> (batch, c', h, w)
``CodeConv2d``  the same function on one-hot board codes, by looking up weight
                columns                               (batch, h, w) -> (batch, c', h, w)

and ``one_hot``, which turns board codes into the channels the layers see.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def one_hot(codes, num_codes, dtype=np.float32):
    """Expand board codes into one channel per code.

    ``codes`` is a uint8 array ``(batch, height, width)``. Code 0 means an
    empty (or unknown) cell and sets no channel; code ``k`` in
    ``1..num_codes`` sets channel ``k - 1``. Returns ``(batch, num_codes,
    height, width)`` in ``dtype``: channels first, ready for ``Conv2d``. The
    MLP input is that array reshaped to ``(batch, num_codes*height*width)``,
    so cell ``(y, x)`` holding code ``k`` is feature
    ``(k-1)*height*width + y*width + x``.
    """
    codes = np.asarray(codes)
    if codes.size and int(codes.max()) > num_codes:
        raise ValueError(f"board code {int(codes.max())} is above num_codes={num_codes}")
    channel_codes = np.arange(1, num_codes + 1, dtype=codes.dtype).reshape(1, num_codes, 1, 1)
    return (codes[:, np.newaxis, :, :] == channel_codes).astype(dtype)


def he_normal(rng, shape, fan_in, dtype):
    """He (Kaiming) initialisation: normal with standard deviation sqrt(2 / fan_in).

    With ReLU after each layer, about half the inputs of the next layer are
    zero; this variance keeps the size of the activations roughly the same
    from layer to layer, so a deep stack neither explodes nor fades at the
    start of training.
    """
    # math.sqrt gives a Python float; np.sqrt would give a float64 scalar,
    # which turns a float32 array into float64.
    return rng.standard_normal(shape, dtype=dtype) * math.sqrt(2.0 / fan_in)


class Linear:
    """Fully connected layer: ``y = x W + b``.

    Shapes: ``x`` (batch, in_features), ``W`` (in_features, out_features),
    ``b`` (out_features,), ``y`` (batch, out_features).

    Gradients, from ``y[n, j] = sum_i x[n, i] W[i, j] + b[j]``:

        dL/dW = x^T  dL/dy        (in, out)
        dL/db = sum over the batch of dL/dy
        dL/dx = dL/dy  W^T        (batch, in)

    The loss has already divided by the batch size, so the batch is summed
    here, not averaged again.
    """

    def __init__(self, in_features, out_features, rng, dtype=np.float32, bias=True):
        self.in_features = in_features
        self.out_features = out_features
        self.weight = he_normal(rng, (in_features, out_features), in_features, dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self.bias = np.zeros(out_features, dtype=dtype) if bias else None
        self.grad_bias = np.zeros(out_features, dtype=dtype) if bias else None
        self.inputs = None

    def parameters(self):
        """Name -> array, in a fixed order."""
        if self.bias is None:
            return {"weight": self.weight}
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
        """Name -> gradient array, same names and order as ``parameters()``."""
        if self.bias is None:
            return {"weight": self.grad_weight}
        return {"weight": self.grad_weight, "bias": self.grad_bias}

    def predict(self, inputs):
        outputs = inputs @ self.weight
        if self.bias is not None:
            outputs += self.bias
        return outputs

    def forward(self, inputs):
        self.inputs = inputs
        return self.predict(inputs)

    def backward(self, grad_out):
        np.matmul(self.inputs.T, grad_out, out=self.grad_weight)
        if self.bias is not None:
            np.sum(grad_out, axis=0, out=self.grad_bias)
        return grad_out @ self.weight.T


def sum_groups(values, group_ids):
    """Sum the rows of ``values`` that share a group id.

    ``group_ids`` (n,) must be sorted, so each group is a run of equal ids.
    Returns ``(ids, sums)``: each group's id once, and the sum of its rows.
    ``np.add.reduceat`` sums ``values[start_i : start_(i+1)]`` for the given
    starts, all in one call.
    """
    # A run starts at index 0 and wherever an id differs from the one before.
    is_start = np.empty(len(group_ids), dtype=bool)
    is_start[:1] = True
    np.not_equal(group_ids[1:], group_ids[:-1], out=is_start[1:])
    starts = is_start.nonzero()[0]
    return group_ids[starts], np.add.reduceat(values, starts, axis=0)


class CodeLinear:
    """A ``Linear`` layer on the one-hot board, fed the small integer codes instead.

    Write ``onehot(codes)`` for the flattened one-hot input (see ``one_hot``):
    ``onehot[n, (k-1)*h*w + c] = 1`` when cell ``c = y*w + x`` of sample ``n``
    holds code ``k``, and 0 otherwise. Then, for ``Linear``,

        y[n, j] = sum_i onehot[n, i] W[i, j] + b[j]
                = sum over occupied cells c of sample n of  W[row(n, c), j] + b[j]
        with row(n, c) = (codes[n, c] - 1)*h*w + c,

    because every term with ``onehot[n, i] = 0`` vanishes and each cell sets
    at most one ``i``. So the product is a *row lookup*: add up the weight
    rows of the occupied cells. Empty cells (code 0) cost nothing, and a
    Snake board (a handful of occupied cells out of 512) needs a few hundred
    row additions instead of a 3072-wide product. It is the same function,
    with the same parameters, as ``Linear(num_codes*h*w, out)`` on
    ``one_hot(codes).reshape(batch, -1)`` (the tests check it).

    The weight gradient ``dL/dW = onehot^T dL/dy`` is a lookup too: row
    ``row(n, c)`` receives ``dL/dy[n]`` for every occupied cell, and rows of
    cells that were empty in the whole batch get zero. Several samples can
    hit the same row (the same code in the same cell), so the contributions
    are sorted by row and summed per row, not written one by one.

    The lookup pays per occupied cell, the matrix product per cell. When
    more than ``DENSE_FROM`` of the cells are occupied (a board full of
    walls, say) the product is faster, so the layer builds the one-hot array
    and multiplies, exactly like ``Linear``: same function, other route.

    There is no input gradient: the input is integer codes, not something
    to learn, so ``backward`` returns None.
    """

    # Measured with benchmarks/bench_nn.py on a 2-core machine (batch 64,
    # 16x32 board, 6 codes): the lookup wins below about 3% occupied cells
    # (a Snake board), the dense product above.
    DENSE_FROM = 0.03

    def __init__(self, num_codes, board_shape, out_features, rng, dtype=np.float32):
        height, width = board_shape
        self.num_codes = num_codes
        self.board_shape = (height, width)
        self.cells = height * width
        self.in_features = num_codes * self.cells
        self.out_features = out_features
        self.weight = he_normal(rng, (self.in_features, out_features), self.in_features, dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self.bias = np.zeros(out_features, dtype=dtype)
        self.grad_bias = np.zeros(out_features, dtype=dtype)
        # The cache: either the occupied cells (lookup route) or the one-hot
        # array (dense route) of the last forward().
        self.sample_index = None
        self.weight_rows = None
        self.one_hot_inputs = None

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
        return {"weight": self.grad_weight, "bias": self.grad_bias}

    def occupied_rows(self, codes):
        """For every occupied cell of the batch: its sample and its weight row.

        Both arrays come out sorted by sample (then by cell).
        """
        flat_codes = codes.reshape(-1)
        positions = (flat_codes != 0).nonzero()[0]  # nonzero() is much faster on booleans
        sample_index, cell_index = np.divmod(positions, self.cells)
        weight_rows = (flat_codes[positions].astype(np.intp) - 1) * self.cells + cell_index
        if weight_rows.size and weight_rows.max() >= self.in_features:
            raise ValueError(f"board code above num_codes={self.num_codes}")
        return sample_index, weight_rows

    def use_dense(self, codes):
        """True when so many cells are occupied that the dense product is faster."""
        if codes.shape[1:] != self.board_shape:
            raise ValueError(f"boards have shape {codes.shape[1:]}, expected {self.board_shape}")
        return np.count_nonzero(codes) > self.DENSE_FROM * codes.size

    def flat_one_hot(self, codes):
        return one_hot(codes, self.num_codes, self.weight.dtype).reshape(len(codes), -1)

    def multiply(self, one_hot_inputs):
        """The dense route: y = onehot W + b."""
        outputs = one_hot_inputs @ self.weight
        outputs += self.bias
        return outputs

    def lookup(self, batch_size, sample_index, weight_rows):
        """The lookup route: y[n] = b + sum of the weight rows of sample n's occupied cells."""
        outputs = np.zeros((batch_size, self.out_features), dtype=self.weight.dtype)
        samples, row_sums = sum_groups(self.weight[weight_rows], sample_index)
        outputs[samples] = row_sums
        outputs += self.bias
        return outputs

    def predict(self, codes):
        if self.use_dense(codes):
            return self.multiply(self.flat_one_hot(codes))
        sample_index, weight_rows = self.occupied_rows(codes)
        return self.lookup(len(codes), sample_index, weight_rows)

    def forward(self, codes):
        if self.use_dense(codes):
            self.one_hot_inputs = self.flat_one_hot(codes)
            self.sample_index = self.weight_rows = None
            return self.multiply(self.one_hot_inputs)
        self.one_hot_inputs = None
        self.sample_index, self.weight_rows = self.occupied_rows(codes)
        return self.lookup(len(codes), self.sample_index, self.weight_rows)

    def backward(self, grad_out):
        np.sum(grad_out, axis=0, out=self.grad_bias)
        if self.one_hot_inputs is not None:
            np.matmul(self.one_hot_inputs.T, grad_out, out=self.grad_weight)
            return None
        order = np.argsort(self.weight_rows, kind="stable")
        rows, row_sums = sum_groups(grad_out[self.sample_index[order]], self.weight_rows[order])
        self.grad_weight.fill(0)
        self.grad_weight[rows] = row_sums
        return None


class ReLU:
    """``y = max(x, 0)``; its derivative is 1 where ``x > 0`` and 0 elsewhere.

    So ``dL/dx = dL/dy * (x > 0)``: the gradient passes through the units
    that were active and stops at the others. (At exactly ``x = 0`` we take
    the derivative as 0.)
    """

    def __init__(self):
        self.active = None

    def parameters(self):
        return {}

    def gradients(self):
        return {}

    def predict(self, inputs):
        return np.maximum(inputs, 0)

    def forward(self, inputs):
        self.active = inputs > 0
        return self.predict(inputs)

    def backward(self, grad_out):
        return grad_out * self.active


class Flatten:
    """``(batch, d1, d2, ...) -> (batch, d1*d2*...)``; backward puts the shape back."""

    def __init__(self):
        self.input_shape = None

    def parameters(self):
        return {}

    def gradients(self):
        return {}

    def predict(self, inputs):
        return inputs.reshape(len(inputs), -1)

    def forward(self, inputs):
        self.input_shape = inputs.shape
        return self.predict(inputs)

    def backward(self, grad_out):
        return grad_out.reshape(self.input_shape)


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


class Conv2d:
    """2-D convolution, stride 1, zero padding that keeps height and width.

    Shapes: ``x`` (batch, in_channels, height, width), weight ``K``
    (out_channels, in_channels, k, k) with an odd k (3 by default), bias
    (out_channels,), ``y`` (batch, out_channels, height, width). With
    ``p = k // 2`` and ``x`` padded by ``p`` zeros on every side,

        y[n, o, r, s] = b[o] + sum over c, i, j of K[o, c, i, j] x[n, c, r+i, s+j]

    **im2col.** Every output pixel ``(n, r, s)`` reads one ``in_channels*k*k``
    window. Lay those windows out as the columns of a matrix and the whole
    convolution becomes one matrix product:

        columns  (in_channels*k*k, batch*height*width)
        y_matrix = K.reshape(out_channels, in_channels*k*k) @ columns + b

    ``sliding_window_view`` makes the windows as a strided *view* of the
    padded input (no copy, no Python loop over pixels); the reshape to the
    matrix makes the one copy. We pad into a (channels, batch, ...) array so
    that copy reads and writes long contiguous runs; the result comes back
    as a (batch, out_channels, ...) view of an (out_channels, batch, ...)
    array.

    **Backward**, with ``G = dL/dy`` arranged as ``(out_channels, batch*height*width)``:

        dL/dK       = G @ columns^T              (reshaped to K's shape)
        dL/db       = G summed over its columns
        dL/dcolumns = K_matrix^T @ G

    and ``dL/dx`` folds ``dL/dcolumns`` back onto the image: each input
    pixel was copied into up to ``k*k`` windows, so it receives the sum of
    their gradients. Window offset ``(i, j)`` of output pixel ``(r, s)`` is
    padded-input pixel ``(r+i, s+j)``, so for each of the ``k*k`` offsets one
    slice-add covers every pixel at once:

        dL/dx_padded[:, :, i:i+height, j:j+width] += dL/dcolumns[offset (i, j)]

    (That loop of 9 vectorised adds is about five times faster than
    scattering with ``np.add.at``.) Finally the padding is cut off.

    **Only the changed pixels.** Behind a ``CodeConv2d`` every sample is a
    mostly empty board seen through one convolution: at most pixels it is
    exactly what an *empty* board gives there. ``QNetwork`` therefore adds
    an empty board as the last sample of the batch, the *reference*, and
    passes ``changed`` (batch, height, width): True where a sample may
    differ from the reference. An output pixel whose window holds no
    changed pixel equals the reference's output at the same place, so only
    the pixels of ``spread(changed, p)`` (a few percent of a Snake batch)
    are computed, from their windows alone:

        y[n, :, r, s] = y[reference, :, r, s]                  unchanged pixels
        y[n, :, r, s] = b + K_rows @ window(n, r, s)           changed pixels

    The reference itself is computed in full (one sample). Here a window is
    a row of ``k*k*in_channels`` values (``window_rows``), and ``K_rows``
    is K in the same order (``weight_rows``).

    That is the function this route computes; its backward is the exact
    gradient of it. The gradient ``G`` of an unchanged pixel goes to the
    reference's pixel, so with ``G_ref`` the gradients summed over the
    samples where a pixel is unchanged (one "board" of sums),

        dL/dK_rows   = G_changed^T @ changed windows + G_ref^T @ reference windows
        dL/dwindow   = G @ K_rows                  (for each computed window)
        dL/dx        = each window's gradient added back where the window
                       was read (one vectorised add per offset (i, j))

    so an input pixel that no computed window read gets gradient zero. In
    ``QNetwork`` the reference is computed from the same parameters as the
    other samples, so the parameters get exactly the gradients the full
    convolution would give them (the tests check it). When the changed
    pixels and the reference together are more than ``CHANGED_UNTIL`` of
    the output pixels (a crowded board, or a batch of one board and the
    reference) the layer computes everything, as without ``changed``.
    """

    # Measured with benchmarks/bench_nn.py (batch 64, 16x32 board, 16 -> 32
    # channels): computing only the changed pixels wins until about half of
    # the pixels are to be computed (a Snake batch: 15%, three times faster).
    CHANGED_UNTIL = 0.5

    def __init__(self, in_channels, out_channels, rng, kernel_size=3, dtype=np.float32, input_gradient=True):
        if kernel_size % 2 != 1:
            raise ValueError("Conv2d keeps the board size only with an odd kernel_size")
        # The first layer's input is the board itself: data, not something to
        # learn, so nobody needs dL/dx there and backward can skip it.
        self.input_gradient = input_gradient
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        fan_in = in_channels * kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = he_normal(rng, shape, fan_in, dtype)
        self.grad_weight = np.zeros_like(self.weight)
        self.bias = np.zeros(out_channels, dtype=dtype)
        self.grad_bias = np.zeros(out_channels, dtype=dtype)
        # The cache: all the columns (every pixel computed), or the changed
        # pixels and the windows that were computed.
        self.input_shape = None
        self.columns = None
        self.pixels = None
        self.windows = None
        self.reference_windows = None

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
        return {"weight": self.grad_weight, "bias": self.grad_bias}

    # -- every pixel: im2col ---------------------------------------------------

    def im2col(self, inputs):
        """(batch, channels, height, width) -> columns (channels*k*k, batch*height*width)."""
        batch, channels, height, width = inputs.shape
        k = self.kernel_size
        pad = k // 2
        padded = np.zeros((channels, batch, height + 2 * pad, width + 2 * pad), dtype=inputs.dtype)
        padded[:, :, pad : pad + height, pad : pad + width] = inputs.transpose(1, 0, 2, 3)
        windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # (c, batch, h, w, k, k)
        return windows.transpose(0, 4, 5, 1, 2, 3).reshape(channels * k * k, batch * height * width)

    def convolve(self, columns, input_shape):
        """columns -> y (batch, out_channels, height, width)."""
        batch, _, height, width = input_shape
        outputs = self.weight.reshape(self.out_channels, -1) @ columns
        outputs += self.bias[:, np.newaxis]
        return outputs.reshape(self.out_channels, batch, height, width).transpose(1, 0, 2, 3)

    def fold(self, grad_columns, input_shape):
        """dL/dcolumns (channels*k*k, batch*height*width) -> dL/dx (batch, channels, height, width)."""
        batch, channels, height, width = input_shape
        k = self.kernel_size
        pad = k // 2
        grad_columns = grad_columns.reshape(channels, k, k, batch, height, width)
        grad_padded = np.zeros((channels, batch, height + 2 * pad, width + 2 * pad), dtype=grad_columns.dtype)
        for i in range(k):
            for j in range(k):
                grad_padded[:, :, i : i + height, j : j + width] += grad_columns[:, i, j]
        grad_inputs = grad_padded[:, :, pad : pad + height, pad : pad + width]
        return grad_inputs.transpose(1, 0, 2, 3)

    # -- only the changed pixels: one row per window -----------------------------

    def changed_pixels(self, changed):
        """The output pixels to compute, as (samples, rows, columns); None to compute them all."""
        if changed is None:
            return None
        changed_outputs = spread(changed, self.kernel_size // 2)
        changed_outputs[-1] = False  # the reference is computed in full, separately
        pixels_to_compute = np.count_nonzero(changed_outputs) + changed_outputs[-1].size
        if pixels_to_compute > self.CHANGED_UNTIL * changed_outputs.size:
            return None
        return changed_outputs.nonzero()

    def reference_pixels(self, input_shape):
        """Every pixel of the last sample, the reference, as (samples, rows, columns)."""
        batch, _, height, width = input_shape
        rows, columns = np.divmod(np.arange(height * width), width)
        return np.full(height * width, batch - 1), rows, columns

    def window_starts(self, input_shape, pixels):
        """Where the windows of ``pixels`` are read, in the padded input's rows.

        The padded input has one row of channels per pixel, (batch, h+2p,
        w+2p, channels) flattened to rows, so padded pixel ``(n, u, v)`` is
        row ``(n*(h+2p) + u)*(w+2p) + v``. Window offset ``(i, j)`` of output
        pixel ``(n, r, s)`` is padded pixel ``(n, r+i, s+j)``: the row of
        offset (0, 0) plus ``i*(w+2p) + j``. Returns those first rows
        (pixels,) and the k*k offsets, in (i, j) order.
        """
        _, _, height, width = input_shape
        k = self.kernel_size
        padded_height, padded_width = height + k - 1, width + k - 1
        samples, rows, columns = pixels
        first_rows = (samples * padded_height + rows) * padded_width + columns
        offsets = (np.arange(k).reshape(k, 1) * padded_width + np.arange(k)).reshape(-1)
        return first_rows, offsets

    def padded_rows(self, inputs):
        """The padded input with one row of channels per pixel: (batch*(h+2p)*(w+2p), channels)."""
        batch, channels, height, width = inputs.shape
        pad = self.kernel_size // 2
        padded = np.zeros((batch, height + 2 * pad, width + 2 * pad, channels), dtype=inputs.dtype)
        padded[:, pad : pad + height, pad : pad + width] = inputs.transpose(0, 2, 3, 1)
        return padded.reshape(-1, channels)

    def window_rows(self, padded_rows, input_shape, pixels):
        """The windows of ``pixels`` only, one row each: (pixels, k*k*channels), in (i, j, channel) order.

        ``np.take`` copies whole rows of the padded input (see
        ``window_starts``), every window at once.
        """
        first_rows, offsets = self.window_starts(input_shape, pixels)
        windows = np.take(padded_rows, first_rows[:, np.newaxis] + offsets, axis=0)
        return windows.reshape(len(first_rows), len(offsets) * padded_rows.shape[1])

    def add_back_windows(self, grad_rows, grad_windows, input_shape, pixels):
        """Add each window's gradient (pixels, k*k*channels) to the padded rows it was read from.

        Within one offset (i, j) no two windows read the same padded pixel,
        so a plain ``+=`` on the indexed rows is right (it would keep only one
        of repeated indices); the k*k offsets are added one after the other.
        """
        first_rows, offsets = self.window_starts(input_shape, pixels)
        grad_windows = grad_windows.reshape(len(first_rows), len(offsets), self.in_channels)
        for index, offset in enumerate(offsets):
            grad_rows[first_rows + offset] += grad_windows[:, index]

    def weight_rows(self):
        """K as (out_channels, k*k*in_channels), in the (i, j, channel) order of ``window_rows``."""
        return self.weight.transpose(0, 2, 3, 1).reshape(self.out_channels, -1)

    def convolve_changed(self, inputs, pixels):
        """y: the reference's output everywhere, then the changed pixels from their windows.

        Returns y and the windows it read (changed pixels, reference pixels).
        """
        batch, _, height, width = inputs.shape
        padded_rows = self.padded_rows(inputs)
        windows = self.window_rows(padded_rows, inputs.shape, pixels)
        reference_windows = self.window_rows(padded_rows, inputs.shape, self.reference_pixels(inputs.shape))
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

    def changed_backward(self, grad_out):
        """Gradients of the changed-pixel route (see the class docstring)."""
        batch, _, height, width = grad_out.shape
        samples, rows, columns = self.pixels
        changed_grads = grad_out[samples, :, rows, columns]  # (pixels, out_channels)
        unchanged = np.ones((batch, height, width), dtype=grad_out.dtype)
        unchanged[samples, rows, columns] = 0
        reference_grads = np.einsum("nohw,nhw->ohw", grad_out, unchanged).reshape(self.out_channels, -1).T
        np.add(changed_grads.sum(axis=0), reference_grads.sum(axis=0), out=self.grad_bias)
        grad_weight_rows = changed_grads.T @ self.windows + reference_grads.T @ self.reference_windows
        k = self.kernel_size
        grad_weight = grad_weight_rows.reshape(self.out_channels, k, k, self.in_channels)
        self.grad_weight[...] = grad_weight.transpose(0, 3, 1, 2)
        if not self.input_gradient:
            return None
        weight_rows = self.weight_rows()
        pad = k // 2
        grad_padded = np.zeros((batch, height + 2 * pad, width + 2 * pad, self.in_channels), dtype=grad_out.dtype)
        grad_rows = grad_padded.reshape(-1, self.in_channels)
        reference_pixels = self.reference_pixels(self.input_shape)
        self.add_back_windows(grad_rows, changed_grads @ weight_rows, self.input_shape, self.pixels)
        self.add_back_windows(grad_rows, reference_grads @ weight_rows, self.input_shape, reference_pixels)
        return grad_padded[:, pad : pad + height, pad : pad + width].transpose(0, 3, 1, 2)

    # -- the layer ------------------------------------------------------------------

    def predict(self, inputs, changed=None):
        pixels = self.changed_pixels(changed)
        if pixels is None:
            return self.convolve(self.im2col(inputs), inputs.shape)
        return self.convolve_changed(inputs, pixels)[0]

    def forward(self, inputs, changed=None):
        self.input_shape = inputs.shape
        self.pixels = self.changed_pixels(changed)
        if self.pixels is None:
            self.columns = self.im2col(inputs)
            self.windows = self.reference_windows = None
            return self.convolve(self.columns, inputs.shape)
        self.columns = None
        outputs, self.windows, self.reference_windows = self.convolve_changed(inputs, self.pixels)
        return outputs

    def backward(self, grad_out):
        if self.pixels is not None:
            return self.changed_backward(grad_out)
        grad_matrix = grad_out.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
        np.matmul(grad_matrix, self.columns.T, out=self.grad_weight.reshape(self.out_channels, -1))
        np.sum(grad_matrix, axis=1, out=self.grad_bias)
        if not self.input_gradient:
            return None
        return self.fold(self.weight.reshape(self.out_channels, -1).T @ grad_matrix, self.input_shape)


class CodeConv2d(Conv2d):
    """A first ``Conv2d`` on the one-hot board, fed the small integer codes instead.

    The input channel ``c`` of a one-hot board is 1 where the cell holds code
    ``c + 1`` and 0 elsewhere (see ``one_hot``), so in

        y[n, o, r, s] = b[o] + sum over c, i, j of K[o, c, i, j] x[n, c, r+i, s+j]

    every term with an empty input vanishes and each cell sets at most one
    channel. Read the other way round: an occupied cell ``(n, u, v)`` holding
    code ``c + 1`` adds the weight column ``K[:, c, i, j]`` to the output
    pixel that sees it at window offset ``(i, j)``, which is
    ``(r, s) = (u + p - i, v + p - j)``, for each of the ``k*k`` offsets
    whose pixel is on the board (``p = k // 2``). So the convolution is a
    *lookup*, like ``CodeLinear``:

        y = b everywhere; then for each offset (i, j):
            y[n, :, u + p - i, v + p - j] += K[:, code - 1, i, j]   for every occupied cell

    One offset is one vectorised add over all the occupied cells of the
    batch. Within one offset two cells never reach the same pixel (a pixel
    sees one cell per offset), so a plain ``+=`` on the indexed pixels is
    right (it would keep only one of repeated indices).

    The weight gradient is a lookup too. ``dL/dK[o, c, i, j]`` sums
    ``dL/dy[n, o, r, s]`` over the pixels whose offset ``(i, j)`` holds code
    ``c + 1``: for each offset, gather ``dL/dy`` at the occupied cells'
    pixels, ``(cells, out_channels)``, and sum it per code, which is a
    product with the cells' one-hot codes ``(cells, num_codes)``:

        dL/dK[:, :, i, j] = gathered^T @ cell_one_hot
        dL/db             = dL/dy summed over the batch and the pixels

    The lookup pays per occupied cell, the matrix product (the ``Conv2d``
    route on ``one_hot(codes)``) per cell; above ``DENSE_FROM`` occupied
    cells, or for fewer than ``LOOKUP_FROM_BATCH`` boards, the layer takes
    that dense route. Both routes compute the same function with the same
    parameters (the tests check it). The input is the board itself, so
    there is no input gradient: ``backward`` returns None.
    """

    # Measured with benchmarks/bench_nn.py (batch 64, 16x32 board, 6 codes,
    # 16 channels): the lookup wins up to about 10% occupied cells. Its
    # nine steps cost more in Python than the product of a few boards, so
    # batches under LOOKUP_FROM_BATCH boards (choosing an action: one
    # board) take the dense route too.
    DENSE_FROM = 0.1
    LOOKUP_FROM_BATCH = 4

    def __init__(self, num_codes, board_shape, out_channels, rng, kernel_size=3, dtype=np.float32):
        super().__init__(num_codes, out_channels, rng, kernel_size, dtype, input_gradient=False)
        self.num_codes = num_codes
        self.board_shape = (board_shape[0], board_shape[1])
        # The cache of the lookup route: the occupied cells of the last
        # forward() (the dense route keeps its columns, as Conv2d does).
        self.cells = None

    def use_dense(self, codes):
        """True when the dense product is faster: many occupied cells, or few boards."""
        if codes.shape[1:] != self.board_shape:
            raise ValueError(f"boards have shape {codes.shape[1:]}, expected {self.board_shape}")
        return len(codes) < self.LOOKUP_FROM_BATCH or np.count_nonzero(codes) > self.DENSE_FROM * codes.size

    def occupied_cells(self, codes):
        """(samples, rows, columns, channels) of every occupied cell; channel = code - 1."""
        samples, rows, columns = codes.nonzero()
        channels = codes[samples, rows, columns].astype(np.intp) - 1
        if channels.size and channels.max() >= self.num_codes:
            raise ValueError(f"board code {channels.max() + 1} is above num_codes={self.num_codes}")
        return samples, rows, columns, channels

    def cells_seen_at(self, cells, i, j):
        """The cells seen at window offset (i, j): (samples, output rows, output columns, channels).

        Output pixel ``(u + p - i, v + p - j)`` sees cell ``(u, v)``; cells
        whose pixel would fall off the board are left out.
        """
        samples, rows, columns, channels = cells
        pad = self.kernel_size // 2
        height, width = self.board_shape
        output_rows = rows + (pad - i)
        output_columns = columns + (pad - j)
        on_board = (output_rows >= 0) & (output_rows < height) & (output_columns >= 0) & (output_columns < width)
        return samples[on_board], output_rows[on_board], output_columns[on_board], channels[on_board]

    def lookup(self, batch_size, cells):
        """The lookup route: the bias everywhere, plus each cell's weight column at each offset.

        The outputs are built with one row of channels per pixel, (batch,
        height, width, out_channels), so that each add writes whole rows;
        they are returned as a (batch, out_channels, height, width) view.
        """
        height, width = self.board_shape
        # The bias in every pixel, built as one row per sample (the fastest copy).
        outputs = np.empty((batch_size, height * width * self.out_channels), dtype=self.weight.dtype)
        outputs[...] = np.tile(self.bias, height * width)
        outputs = outputs.reshape(batch_size, height, width, self.out_channels)
        for i in range(self.kernel_size):
            for j in range(self.kernel_size):
                samples, rows, columns, channels = self.cells_seen_at(cells, i, j)
                outputs[samples, rows, columns] += self.weight[:, channels, i, j].T
        return outputs.transpose(0, 3, 1, 2)

    def predict(self, codes):
        if self.use_dense(codes):
            return super().predict(one_hot(codes, self.num_codes, self.weight.dtype))
        return self.lookup(len(codes), self.occupied_cells(codes))

    def forward(self, codes):
        if self.use_dense(codes):
            self.cells = None
            return super().forward(one_hot(codes, self.num_codes, self.weight.dtype))
        self.columns = None
        self.cells = self.occupied_cells(codes)
        return self.lookup(len(codes), self.cells)

    def backward(self, grad_out):
        if self.cells is None:
            return super().backward(grad_out)
        np.sum(grad_out, axis=(0, 2, 3), out=self.grad_bias)
        codes = np.arange(self.num_codes)
        for i in range(self.kernel_size):
            for j in range(self.kernel_size):
                samples, rows, columns, channels = self.cells_seen_at(self.cells, i, j)
                gathered = grad_out[samples, :, rows, columns]  # (cells, out_channels)
                cell_one_hot = (channels[:, np.newaxis] == codes).astype(grad_out.dtype)
                self.grad_weight[:, :, i, j] = gathered.T @ cell_one_hot
        return None
