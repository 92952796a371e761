"""What the nn tests check every layer against, textbook or fast.

Finite differences are the reference every backward pass is checked against:

    dL/da  ~  (L(a + h) - L(a - h)) / 2h      (central differences, float64: in
                                                float32 the rounding error swamps h)

and the other helpers build inputs and check the protocol of ``nn/layers.py``.
"""

import numpy as np
import pytest


def numerical_gradient(loss_of, array, indices=None, step=1e-6):
    """Central differences of loss_of() with respect to entries of ``array`` (changed in place)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape) if indices is None else indices:
        saved = array[index]
        array[index] = saved + step
        loss_up = loss_of()
        array[index] = saved - step
        loss_down = loss_of()
        array[index] = saved
        grad[index] = (loss_up - loss_down) / (2 * step)
    return grad


def assert_close(analytic, numeric):
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def check_layer_gradients(layer, inputs, rng, input_indices=None):
    """Loss = sum(y * R) for fixed random R, so dL/dy = R; compare every gradient."""
    outputs = layer.forward(inputs)
    weights_of_loss = rng.standard_normal(outputs.shape)

    def loss():
        return float(np.sum(layer.predict(inputs) * weights_of_loss))

    grad_inputs = layer.backward(weights_of_loss)
    for name, parameter in layer.parameters().items():
        assert_close(layer.gradients()[name], numerical_gradient(loss, parameter))
    if grad_inputs is not None:
        assert grad_inputs.shape == inputs.shape
        if input_indices is None:
            assert_close(grad_inputs, numerical_gradient(loss, inputs))
        else:
            numeric = numerical_gradient(loss, inputs, input_indices)
            for index in input_indices:
                assert grad_inputs[index] == pytest.approx(numeric[index], rel=1e-6, abs=1e-8)


def random_codes(rng, batch, height, width, num_codes, occupied):
    """Boards of codes 1..num_codes, each cell occupied with probability ``occupied``."""
    codes = rng.integers(1, num_codes + 1, size=(batch, height, width)).astype(np.uint8)
    codes[rng.random((batch, height, width)) >= occupied] = 0
    return codes


def direct_convolution(inputs, weight, bias):
    """Textbook loops: y[n,o,r,s] = b[o] + sum K[o,c,i,j] x_padded[n,c,r+i,s+j]."""
    batch, _, height, width = inputs.shape
    out_channels, _, k, _ = weight.shape
    pad = k // 2
    padded = np.pad(inputs, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    outputs = np.zeros((batch, out_channels, height, width))
    for n in range(batch):
        for o in range(out_channels):
            for r in range(height):
                for s in range(width):
                    window = padded[n, :, r : r + k, s : s + k]
                    outputs[n, o, r, s] = bias[o] + np.sum(weight[o] * window)
    return outputs


# -- the protocol: forward, backward, parameters, gradients, predict --------------------


def assert_predict_leaves_the_cache(layer, inputs, other_inputs, rng):
    """A predict on other inputs between forward and backward changes no gradient."""
    outputs = layer.forward(inputs)
    grad_outputs = rng.standard_normal(outputs.shape)
    reference = layer.backward(grad_outputs)
    reference_gradients = {name: array.copy() for name, array in layer.gradients().items()}
    layer.forward(inputs)
    layer.predict(other_inputs)
    again = layer.backward(grad_outputs)
    if reference is not None:
        np.testing.assert_array_equal(again, reference)
    for name, array in layer.gradients().items():
        np.testing.assert_array_equal(array, reference_gradients[name])


def assert_computes_in_dtype(layer, inputs, dtype):
    outputs = layer.forward(inputs)
    assert outputs.dtype == dtype
    grad_inputs = layer.backward(np.ones_like(outputs))
    if grad_inputs is not None:
        assert grad_inputs.dtype == dtype
    for array in list(layer.parameters().values()) + list(layer.gradients().values()):
        assert array.dtype == dtype


def assert_fills_the_same_gradient_arrays(layer, inputs):
    before = dict(layer.gradients())
    assert list(before) == list(layer.parameters())
    layer.backward(np.ones_like(layer.forward(inputs)))
    for name, array in layer.gradients().items():
        assert array is before[name]
