"""The textbook layers of the Q-network, each forward beside its backward.

A network is a chain of functions ``y = f(x; parameters)``. Training needs,
for a scalar loss ``L``, the gradient of ``L`` with respect to every
parameter. Backpropagation gets them with the chain rule, one layer at a
time, from the last layer to the first:

    given  dL/dy  (``grad_outputs``, same shape as the layer's output y)
    fill   dL/dparameter  for each parameter of the layer
    return dL/dx  (``grad_inputs``, same shape as the layer's input x)

**The protocol.** Every layer, here and in ``fast.py`` and ``changed_pixels.py``,
has these methods:

``forward(inputs) -> outputs``
    computes ``y`` and keeps what ``backward`` will need (the cache).
``backward(grad_outputs) -> grad_inputs``
    uses that cache to write the parameter gradients into the arrays of
    ``gradients()`` (the optimizer holds references to them, so they are
    filled in place, never replaced) and returns ``dL/dx``. Where the input
    is data that nothing learns from (the board codes, or a ``Conv2d`` made
    with ``input_gradient=False``), nobody needs ``dL/dx``, and ``backward``
    returns None instead.
``parameters() -> {name: array}`` and ``gradients() -> {name: array}``
    the learnable arrays and their gradients, with the same names in the
    same order (empty for ReLU and Flatten).
``predict(inputs) -> outputs``
    computes ``y`` like ``forward`` without touching the cache. DQN runs
    the network on the next states (and when choosing actions) between a
    ``forward`` and its ``backward``; with a single cached method that
    second pass would silently replace what ``backward`` needs.

Every layer computes in the dtype of its inputs and parameters: float32 for
training, float64 when the tests compare gradients with finite differences
(which are meaningless in float32).

The layers:

``Linear``   y = x W + b                             (batch, in) -> (batch, out)
``ReLU``     y = max(x, 0)
``Flatten``  (batch, ...) -> (batch, features)
``Conv2d``   k x k "same" convolution (k = 3 by default) by im2col
                                                     (batch, c, h, w) -> (batch, c', h, w)

and ``one_hot``, which turns board codes into the channels the layers see.
Faster layers that compute the same functions on Snake's mostly empty
boards (``CodeLinear``, ``CodeConv2d`` in ``fast.py``; only the changed
pixels of a convolution in ``changed_pixels.py``) live in their own modules;
each says which of these it computes.
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
        self.inputs = None  # the cache: x

    def parameters(self):
        if self.bias is None:
            return {"weight": self.weight}
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
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

    def backward(self, grad_outputs):
        np.matmul(self.inputs.T, grad_outputs, out=self.grad_weight)
        if self.bias is not None:
            np.sum(grad_outputs, axis=0, out=self.grad_bias)
        return grad_outputs @ self.weight.T


class ReLU:
    """``y = max(x, 0)``; its derivative is 1 where ``x > 0`` and 0 elsewhere.

    So ``dL/dx = dL/dy * (x > 0)``: the gradient passes through the units
    that were active and stops at the others. (At exactly ``x = 0`` we take
    the derivative as 0.)
    """

    def __init__(self):
        self.active = None  # the cache: x > 0

    def parameters(self):
        return {}

    def gradients(self):
        return {}

    def predict(self, inputs):
        return np.maximum(inputs, 0)

    def forward(self, inputs):
        self.active = inputs > 0
        return self.predict(inputs)

    def backward(self, grad_outputs):
        return grad_outputs * self.active


class Flatten:
    """``(batch, d1, d2, ...) -> (batch, d1*d2*...)``; backward puts the shape back."""

    def __init__(self):
        self.input_shape = None  # the cache

    def parameters(self):
        return {}

    def gradients(self):
        return {}

    def predict(self, inputs):
        return inputs.reshape(len(inputs), -1)

    def forward(self, inputs):
        self.input_shape = inputs.shape
        return self.predict(inputs)

    def backward(self, grad_outputs):
        return grad_outputs.reshape(self.input_shape)


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

    The first layer's input is the board itself: data, not something to
    learn. Made with ``input_gradient=False``, the layer skips ``dL/dx``
    and ``backward`` returns None.
    """

    def __init__(self, in_channels, out_channels, rng, kernel_size=3, dtype=np.float32, input_gradient=True):
        if kernel_size % 2 != 1:
            raise ValueError("Conv2d keeps the board size only with an odd kernel_size")
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
        # The cache: the input's shape and its columns.
        self.input_shape = None
        self.columns = None

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

    def predict(self, inputs):
        return self.convolve(self.im2col(inputs), inputs.shape)

    def forward(self, inputs):
        self.input_shape = inputs.shape
        self.columns = self.im2col(inputs)
        return self.convolve(self.columns, inputs.shape)

    def backward(self, grad_outputs):
        grad_matrix = grad_outputs.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
        np.matmul(grad_matrix, self.columns.T, out=self.grad_weight.reshape(self.out_channels, -1))
        np.sum(grad_matrix, axis=1, out=self.grad_bias)
        if not self.input_gradient:
            return None
        return self.fold(self.weight.reshape(self.out_channels, -1).T @ grad_matrix, self.input_shape)
