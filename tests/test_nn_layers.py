"""Textbook layers: forward values, gradient checks in float64, one-hot convention, the protocol.

The fast layers, and the checks that they compute what these compute, are in test_nn_fast.py.
"""

import numpy as np
import pytest

from gradient_check import (
    assert_computes_in_dtype,
    assert_fills_the_same_gradient_arrays,
    assert_predict_leaves_the_cache,
    check_layer_gradients,
    direct_convolution,
)
from retro_gamer.nn.layers import Conv2d, Flatten, Linear, ReLU, one_hot


# -- one_hot ---------------------------------------------------------------------


def test_one_hot_convention():
    codes = np.zeros((2, 3, 4), dtype=np.uint8)
    codes[0, 1, 2] = 3
    codes[1, 2, 0] = 1
    dense = one_hot(codes, num_codes=4)
    assert dense.shape == (2, 4, 3, 4) and dense.dtype == np.float32
    assert dense.sum() == 2
    assert dense[0, 2, 1, 2] == 1  # code 3 -> channel 2
    assert dense[1, 0, 2, 0] == 1  # code 1 -> channel 0
    flat = dense.reshape(2, -1)
    height, width = 3, 4
    assert flat[0, (3 - 1) * height * width + 1 * width + 2] == 1
    assert flat[1, (1 - 1) * height * width + 2 * width + 0] == 1


def test_one_hot_empty_cells_are_all_zero_and_dtype_follows():
    codes = np.zeros((1, 2, 2), dtype=np.uint8)
    dense = one_hot(codes, 3, dtype=np.float64)
    assert dense.dtype == np.float64 and not dense.any()


def test_one_hot_refuses_codes_above_num_codes():
    with pytest.raises(ValueError, match="num_codes"):
        one_hot(np.full((1, 2, 2), 5, dtype=np.uint8), 4)


# -- Linear, ReLU, Flatten ---------------------------------------------------------


def test_linear_forward_is_x_w_plus_b():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng)
    layer.bias[:] = [1.0, -1.0]
    inputs = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    expected = inputs @ layer.weight + layer.bias
    np.testing.assert_allclose(layer.forward(inputs), expected, rtol=1e-6)


def test_linear_he_initialisation_scale():
    layer = Linear(400, 300, np.random.default_rng(1))
    assert layer.weight.dtype == np.float32
    assert layer.weight.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert not layer.bias.any()


def test_linear_gradients():
    rng = np.random.default_rng(2)
    layer = Linear(5, 4, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(4)
    check_layer_gradients(layer, rng.standard_normal((3, 5)), rng)


def test_linear_without_bias_gradients():
    rng = np.random.default_rng(3)
    layer = Linear(3, 2, rng, dtype=np.float64, bias=False)
    assert list(layer.parameters()) == ["weight"]
    check_layer_gradients(layer, rng.standard_normal((4, 3)), rng)


def test_relu_gradients_away_from_the_kink():
    rng = np.random.default_rng(4)
    inputs = rng.uniform(0.1, 1.0, (3, 7)) * rng.choice([-1.0, 1.0], (3, 7))
    check_layer_gradients(ReLU(), inputs, rng)


def test_relu_values():
    np.testing.assert_array_equal(ReLU().forward(np.array([[-2.0, 0.0, 3.0]])), [[0.0, 0.0, 3.0]])


def test_flatten_gradients_and_shape():
    rng = np.random.default_rng(5)
    layer = Flatten()
    inputs = rng.standard_normal((2, 3, 4, 6))
    assert layer.forward(inputs).shape == (2, 72)
    check_layer_gradients(layer, inputs, rng)


# -- Conv2d --------------------------------------------------------------------------


def test_conv2d_matches_direct_convolution_on_a_non_square_board():
    rng = np.random.default_rng(6)
    layer = Conv2d(3, 2, rng, dtype=np.float64)
    layer.bias[:] = [0.5, -0.25]
    inputs = rng.standard_normal((2, 3, 4, 6))
    expected = direct_convolution(inputs, layer.weight, layer.bias)
    np.testing.assert_allclose(layer.forward(inputs), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.predict(inputs), expected, rtol=1e-10, atol=1e-12)


def test_conv2d_sees_its_neighbours_in_the_right_direction():
    # One hot pixel at (row 1, column 4) of a 4x6 image; a kernel that only
    # reads its right-hand neighbour, K[0, 0, 1, 2] = 1, so the output at
    # (1, 3) must light up, and nothing else.
    layer = Conv2d(1, 1, np.random.default_rng(0), dtype=np.float64)
    layer.weight[:] = 0
    layer.weight[0, 0, 1, 2] = 1
    inputs = np.zeros((1, 1, 4, 6))
    inputs[0, 0, 1, 4] = 1
    outputs = layer.forward(inputs)
    assert outputs[0, 0, 1, 3] == 1 and outputs.sum() == 1


def test_conv2d_gradients_on_a_non_square_board():
    rng = np.random.default_rng(7)
    layer = Conv2d(3, 2, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    check_layer_gradients(layer, rng.standard_normal((2, 3, 4, 6)), rng)


def test_conv2d_gradients_16_tall_32_wide():
    rng = np.random.default_rng(8)
    layer = Conv2d(2, 3, rng, dtype=np.float64)
    inputs = rng.standard_normal((2, 2, 16, 32))
    outputs = layer.forward(inputs)
    assert outputs.shape == (2, 3, 16, 32)
    # Corners, edges and the middle; (row, column) pairs that differ when swapped.
    pixels = [(0, 0), (0, 31), (15, 0), (15, 31), (3, 20), (12, 5), (7, 16)]
    indices = [(n, c, r, s) for n in range(2) for c in range(2) for r, s in pixels]
    check_layer_gradients(layer, inputs, rng, input_indices=indices)


def test_conv2d_wider_kernel_gradients():
    rng = np.random.default_rng(9)
    layer = Conv2d(1, 2, rng, kernel_size=5, dtype=np.float64)
    inputs = rng.standard_normal((1, 1, 5, 7))
    np.testing.assert_allclose(
        layer.forward(inputs), direct_convolution(inputs, layer.weight, layer.bias), rtol=1e-10, atol=1e-12
    )
    check_layer_gradients(layer, inputs, rng)


def test_conv2d_he_initialisation_and_even_kernel_refused():
    layer = Conv2d(16, 32, np.random.default_rng(10))
    assert layer.weight.shape == (32, 16, 3, 3) and layer.weight.dtype == np.float32
    assert layer.weight.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    with pytest.raises(ValueError, match="odd"):
        Conv2d(1, 1, np.random.default_rng(0), kernel_size=2)



# -- the protocol -------------------------------------------------------------------------


def make_layers(rng, dtype):
    return [
        (Linear(6, 3, rng, dtype), rng.standard_normal((4, 6)).astype(dtype)),
        (Linear(6, 3, rng, dtype, bias=False), rng.standard_normal((4, 6)).astype(dtype)),
        (ReLU(), rng.standard_normal((4, 6)).astype(dtype)),
        (Flatten(), rng.standard_normal((4, 2, 3)).astype(dtype)),
        (Conv2d(2, 3, rng, dtype=dtype), rng.standard_normal((4, 2, 3, 5)).astype(dtype)),
        (Conv2d(2, 3, rng, dtype=dtype, input_gradient=False), rng.standard_normal((4, 2, 3, 5)).astype(dtype)),
    ]


def test_predict_between_forward_and_backward_changes_nothing():
    rng = np.random.default_rng(17)
    for layer, inputs in make_layers(rng, np.float64):
        other_inputs = rng.standard_normal((7,) + inputs.shape[1:])
        assert_predict_leaves_the_cache(layer, inputs, other_inputs, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_compute_in_their_dtype(dtype):
    rng = np.random.default_rng(18)
    for layer, inputs in make_layers(rng, dtype):
        assert_computes_in_dtype(layer, inputs, dtype)


def test_backward_fills_the_same_gradient_arrays():
    rng = np.random.default_rng(19)
    for layer, inputs in make_layers(rng, np.float32):
        assert_fills_the_same_gradient_arrays(layer, inputs)


def test_a_first_convolution_skips_the_input_gradient_but_not_its_own():
    rng = np.random.default_rng(3)
    inputs = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
    grad_out = rng.standard_normal((2, 5, 4, 6)).astype(np.float32)
    full = Conv2d(3, 5, np.random.default_rng(0))
    first = Conv2d(3, 5, np.random.default_rng(0), input_gradient=False)
    full.forward(inputs)
    first.forward(inputs)
    assert full.backward(grad_out) is not None
    assert first.backward(grad_out) is None
    assert np.array_equal(full.grad_weight, first.grad_weight)
    assert np.array_equal(full.grad_bias, first.grad_bias)
