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
    returns ``dL/dx`` (None for ``CodeLinear``, whose input is integer codes,
    and for a first ``Conv2d``, whose input is the board itself).
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
    """

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
        self.columns = None
        self.input_shape = None

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
        return {"weight": self.grad_weight, "bias": self.grad_bias}

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

    def predict(self, inputs):
        return self.convolve(self.im2col(inputs), inputs.shape)

    def forward(self, inputs):
        self.input_shape = inputs.shape
        self.columns = self.im2col(inputs)
        return self.convolve(self.columns, inputs.shape)

    def backward(self, grad_out):
        batch, channels, height, width = self.input_shape
        k = self.kernel_size
        pad = k // 2
        grad_matrix = grad_out.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
        np.matmul(grad_matrix, self.columns.T, out=self.grad_weight.reshape(self.out_channels, -1))
        np.sum(grad_matrix, axis=1, out=self.grad_bias)
        if not self.input_gradient:
            return None
        grad_columns = self.weight.reshape(self.out_channels, -1).T @ grad_matrix
        grad_columns = grad_columns.reshape(channels, k, k, batch, height, width)
        grad_padded = np.zeros((channels, batch, height + 2 * pad, width + 2 * pad), dtype=grad_out.dtype)
        for i in range(k):
            for j in range(k):
                grad_padded[:, :, i : i + height, j : j + width] += grad_columns[:, i, j]
        grad_inputs = grad_padded[:, :, pad : pad + height, pad : pad + width]
        return grad_inputs.transpose(1, 0, 2, 3)
