"""Layers: forward values, gradient checks in float64, one-hot convention, caches."""

import numpy as np
import pytest

from gradient_check import numerical_gradient
from retro_gamer.nn.layers import CodeConv2d, CodeLinear, Conv2d, Flatten, Linear, ReLU, one_hot, spread, sum_groups




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
    codes = rng.integers(1, num_codes + 1, size=(batch, height, width)).astype(np.uint8)
    codes[rng.random((batch, height, width)) >= occupied] = 0
    return codes


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


# -- Conv2d: only the changed pixels ----------------------------------------------------


class ChangedPixels:
    """A Conv2d told which pixels changed: a fixed random pattern per batch size, the last sample the reference."""

    def __init__(self, layer, changed_share, seed=0):
        self.layer = layer
        self.changed_share = changed_share
        self.seed = seed

    def changed(self, inputs):
        batch, _, height, width = inputs.shape
        changed = np.random.default_rng(self.seed).random((batch, height, width)) < self.changed_share
        changed[-1] = False
        return changed

    def forward(self, inputs):
        return self.layer.forward(inputs, self.changed(inputs))

    def predict(self, inputs):
        return self.layer.predict(inputs, self.changed(inputs))

    def backward(self, grad_out):
        return self.layer.backward(grad_out)

    def parameters(self):
        return self.layer.parameters()

    def gradients(self):
        return self.layer.gradients()


def like_the_reference(rng, inputs, changed):
    """Every sample equal to the last (the reference), but random where ``changed``."""
    inputs = np.repeat(inputs[-1:], len(inputs), axis=0)
    pixels = inputs.transpose(0, 2, 3, 1)  # a view: one row of channels per pixel
    pixels[changed] = rng.standard_normal((np.count_nonzero(changed), inputs.shape[1]))
    return inputs


def test_spread_marks_the_windows_that_hold_a_true():
    changed = np.zeros((2, 4, 5), dtype=bool)
    changed[0, 0, 0] = changed[1, 2, 3] = True
    spread_once = spread(changed, 1)
    assert [index.tolist() for index in spread_once[0].nonzero()] == [[0, 0, 1, 1], [0, 1, 0, 1]]
    assert np.count_nonzero(spread_once[1]) == 9 and spread_once[1, 1:4, 2:5].all()
    assert spread(changed, 2)[0, :3, :3].all() and np.count_nonzero(spread(changed, 2)[0]) == 9


def test_conv2d_changed_pixels_match_direct_convolution():
    rng = np.random.default_rng(26)
    layer = Conv2d(3, 2, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    wrapped = ChangedPixels(layer, 0.02)
    inputs = rng.standard_normal((6, 3, 9, 13))
    changed = wrapped.changed(inputs)
    changed[0, 0, 0] = changed[1, 8, 12] = True  # corners
    inputs = like_the_reference(rng, inputs, changed)
    expected = direct_convolution(inputs, layer.weight, layer.bias)
    np.testing.assert_allclose(layer.forward(inputs, changed), expected, rtol=1e-10, atol=1e-12)
    assert layer.pixels is not None
    np.testing.assert_allclose(layer.predict(inputs, changed), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("changed_share", [0.02, 0.0], ids=["few-changed", "none-changed"])
def test_conv2d_changed_pixels_gradients(changed_share):
    # The exact gradients of what this route computes, whatever the inputs:
    # an input pixel that no computed window reads gets gradient zero.
    rng = np.random.default_rng(27)
    layer = Conv2d(2, 3, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(3)
    wrapped = ChangedPixels(layer, changed_share)
    inputs = rng.standard_normal((5, 2, 8, 11))
    check_layer_gradients(wrapped, inputs, rng)
    assert layer.pixels is not None


def test_conv2d_changed_pixels_give_the_full_convolutions_parameter_gradients():
    rng = np.random.default_rng(28)
    full = Conv2d(3, 4, np.random.default_rng(29), dtype=np.float64)
    changed_only = Conv2d(3, 4, np.random.default_rng(29), dtype=np.float64)
    full.bias[:] = changed_only.bias[:] = rng.standard_normal(4)
    inputs = rng.standard_normal((7, 3, 10, 12))
    changed = ChangedPixels(changed_only, 0.02).changed(inputs)
    inputs = like_the_reference(rng, inputs, changed)
    grad_out = rng.standard_normal((7, 4, 10, 12))
    full.forward(inputs)
    changed_only.forward(inputs, changed)
    assert full.pixels is None and changed_only.pixels is not None
    grad_inputs_full = full.backward(grad_out)
    grad_inputs = changed_only.backward(grad_out)
    np.testing.assert_allclose(changed_only.grad_weight, full.grad_weight, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(changed_only.grad_bias, full.grad_bias, rtol=1e-10, atol=1e-12)
    # An unchanged pixel's gradient went to the reference instead: the sums over the samples agree.
    np.testing.assert_allclose(grad_inputs.sum(axis=0), grad_inputs_full.sum(axis=0), rtol=1e-10, atol=1e-12)


def test_conv2d_computes_every_pixel_when_many_change():
    rng = np.random.default_rng(30)
    layer = Conv2d(2, 2, rng, dtype=np.float64)
    inputs = rng.standard_normal((5, 2, 6, 8))
    for changed_share, computes_every_pixel in ((0.02, False), (0.3, True)):
        changed = ChangedPixels(layer, changed_share).changed(inputs)
        outputs = layer.forward(inputs, changed)
        assert (layer.pixels is None) == computes_every_pixel
    np.testing.assert_allclose(outputs, direct_convolution(inputs, layer.weight, layer.bias), rtol=1e-10, atol=1e-12)
    # One board and the reference: the reference alone is half of the pixels.
    changed = np.zeros((2, 6, 8), dtype=bool)
    changed[0, 3, 3] = True
    layer.forward(inputs[:2], changed)
    assert layer.pixels is None


def test_conv2d_he_initialisation_and_even_kernel_refused():
    layer = Conv2d(16, 32, np.random.default_rng(10))
    assert layer.weight.shape == (32, 16, 3, 3) and layer.weight.dtype == np.float32
    assert layer.weight.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    with pytest.raises(ValueError, match="odd"):
        Conv2d(1, 1, np.random.default_rng(0), kernel_size=2)


# -- CodeConv2d -----------------------------------------------------------------------


def assert_conv_route(layer, occupied):
    """The layer took the lookup route for sparse boards, the dense route for full ones."""
    if occupied < CodeConv2d.DENSE_FROM:
        assert layer.cells is not None and layer.columns is None
    else:
        assert layer.cells is None and layer.columns is not None


def assert_code_layer_matches_dense(code_layer, dense_layer, codes, one_hot_inputs, rng):
    """A layer fed board codes computes what its dense twin computes on the
    one-hot board: the same outputs (forward and predict) and gradients."""
    expected = dense_layer.forward(one_hot_inputs)
    np.testing.assert_allclose(code_layer.forward(codes), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(code_layer.predict(codes), expected, rtol=1e-5, atol=1e-5)
    grad_out = rng.standard_normal(expected.shape).astype(np.float32)
    dense_layer.backward(grad_out)
    assert code_layer.backward(grad_out) is None  # nobody needs dL/d(board codes)
    np.testing.assert_allclose(code_layer.grad_weight, dense_layer.grad_weight, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(code_layer.grad_bias, dense_layer.grad_bias, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("occupied", [0.02, 0.6], ids=["lookup-route", "dense-route"])
def test_code_conv2d_is_conv2d_on_the_one_hot_board(occupied):
    num_codes, height, width, out_channels = 4, 5, 7, 3
    rng = np.random.default_rng(21)
    codes = random_codes(rng, 6, height, width, num_codes, occupied)
    codes[2] = 0  # a sample with an empty board
    codes[0, 0, 0] = codes[1, height - 1, width - 1] = 3  # corners: some offsets fall off the board
    codes[::2, 2, 3] = 2  # the same code in the same cell in several samples
    code_layer = CodeConv2d(num_codes, (height, width), out_channels, np.random.default_rng(22))
    dense_layer = Conv2d(num_codes, out_channels, np.random.default_rng(22), input_gradient=False)
    np.testing.assert_array_equal(code_layer.weight, dense_layer.weight)  # same initialisation
    code_layer.bias[:] = dense_layer.bias[:] = rng.standard_normal(out_channels)

    assert_code_layer_matches_dense(code_layer, dense_layer, codes, one_hot(codes, num_codes), rng)
    assert_conv_route(code_layer, occupied)


@pytest.mark.parametrize("occupied", [0.02, 0.6], ids=["lookup-route", "dense-route"])
def test_code_conv2d_gradients(occupied):
    rng = np.random.default_rng(23)
    layer = CodeConv2d(3, (4, 6), 2, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    codes = random_codes(rng, 4, 4, 6, 3, occupied)
    codes[0, 0, 5] = codes[1, 3, 0] = 1  # on the edges
    codes[2, 1, 1] = codes[3, 1, 1] = 3  # a weight column two samples share
    check_layer_gradients(layer, codes, rng)
    assert_conv_route(layer, occupied)


def test_code_conv2d_wider_kernel_matches_direct_convolution():
    rng = np.random.default_rng(24)
    layer = CodeConv2d(2, (5, 7), 2, rng, kernel_size=5, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    codes = random_codes(rng, 4, 5, 7, 2, 0.06)
    codes[0, 2, 3] = 2
    expected = direct_convolution(one_hot(codes, 2, np.float64), layer.weight, layer.bias)
    np.testing.assert_allclose(layer.forward(codes), expected, rtol=1e-10, atol=1e-12)
    assert layer.cells is not None
    check_layer_gradients(layer, codes, rng)


def test_code_conv2d_refuses_wrong_board_shape_and_unknown_codes():
    layer = CodeConv2d(2, (5, 6), 4, np.random.default_rng(25))
    with pytest.raises(ValueError, match="shape"):
        layer.forward(np.zeros((1, 6, 5), dtype=np.uint8))
    one_unknown_cell = np.zeros((1, 5, 6), dtype=np.uint8)  # lookup route
    one_unknown_cell[0, 1, 1] = 3
    all_unknown = np.full((1, 5, 6), 3, dtype=np.uint8)  # dense route
    for codes in (one_unknown_cell, all_unknown):
        with pytest.raises(ValueError, match="num_codes"):
            layer.forward(codes)
        with pytest.raises(ValueError, match="num_codes"):
            layer.predict(codes)


# -- CodeLinear ------------------------------------------------------------------------


def assert_route(layer, occupied):
    """The layer took the lookup route for sparse boards, the dense route for full ones."""
    if occupied < CodeLinear.DENSE_FROM:
        assert layer.one_hot_inputs is None and layer.weight_rows is not None
    else:
        assert layer.one_hot_inputs is not None and layer.weight_rows is None


@pytest.mark.parametrize("occupied", [0.01, 0.6], ids=["lookup-route", "dense-route"])
def test_code_linear_is_linear_on_the_one_hot_board(occupied):
    num_codes, height, width, out_features = 4, 5, 7, 6
    rng = np.random.default_rng(11)
    codes = random_codes(rng, 16, height, width, num_codes, occupied)
    codes[3] = 0  # a sample with an empty board
    codes[::4, 2, 3] = 2  # the same code in the same cell in a quarter of the samples
    code_layer = CodeLinear(num_codes, (height, width), out_features, np.random.default_rng(12))
    dense_layer = Linear(num_codes * height * width, out_features, np.random.default_rng(12))
    np.testing.assert_array_equal(code_layer.weight, dense_layer.weight)  # same initialisation
    code_layer.bias[:] = dense_layer.bias[:] = rng.standard_normal(out_features)

    flat_one_hot = one_hot(codes, num_codes).reshape(len(codes), -1)
    assert_code_layer_matches_dense(code_layer, dense_layer, codes, flat_one_hot, rng)
    assert_route(code_layer, occupied)


@pytest.mark.parametrize("occupied", [0.01, 0.6], ids=["lookup-route", "dense-route"])
def test_code_linear_gradients(occupied):
    rng = np.random.default_rng(13)
    layer = CodeLinear(3, (5, 8), 2, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    codes = random_codes(rng, 5, 5, 8, 3, occupied)
    codes[0, 1, 1] = codes[1, 1, 1] = 3  # a weight row shared by two samples
    check_layer_gradients(layer, codes, rng)
    assert_route(layer, occupied)


def test_code_linear_weight_row_of_a_cell():
    height, width = 3, 5
    layer = CodeLinear(4, (height, width), 2, np.random.default_rng(14))
    codes = np.zeros((1, height, width), dtype=np.uint8)
    codes[0, 2, 1] = 3
    row = (3 - 1) * height * width + 2 * width + 1
    np.testing.assert_array_equal(layer.forward(codes)[0], layer.weight[row] + layer.bias)
    layer.backward(np.ones((1, 2), dtype=np.float32))
    assert np.flatnonzero(layer.grad_weight.any(axis=1)).tolist() == [row]


def test_code_linear_empty_batch_of_boards_gives_the_bias():
    layer = CodeLinear(2, (2, 3), 4, np.random.default_rng(15))
    layer.bias[:] = [1, 2, 3, 4]
    codes = np.zeros((3, 2, 3), dtype=np.uint8)
    np.testing.assert_array_equal(layer.forward(codes), np.tile([1, 2, 3, 4], (3, 1)))
    layer.grad_weight[:] = 7
    layer.backward(np.ones((3, 4), dtype=np.float32))
    assert not layer.grad_weight.any()


def test_code_linear_refuses_wrong_board_shape_and_unknown_codes():
    layer = CodeLinear(2, (5, 6), 4, np.random.default_rng(16))
    with pytest.raises(ValueError, match="shape"):
        layer.forward(np.zeros((1, 6, 5), dtype=np.uint8))
    one_unknown_cell = np.zeros((1, 5, 6), dtype=np.uint8)  # lookup route
    one_unknown_cell[0, 1, 1] = 3
    all_unknown = np.full((1, 5, 6), 3, dtype=np.uint8)  # dense route
    for codes in (one_unknown_cell, all_unknown):
        with pytest.raises(ValueError, match="num_codes"):
            layer.forward(codes)
        with pytest.raises(ValueError, match="num_codes"):
            layer.predict(codes)


def test_sum_groups():
    values = np.arange(10.0).reshape(5, 2)
    ids, sums = sum_groups(values, np.array([0, 0, 3, 4, 4]))
    assert ids.tolist() == [0, 3, 4]
    np.testing.assert_array_equal(sums, [[2, 4], [4, 5], [14, 16]])
    ids, sums = sum_groups(np.zeros((0, 2)), np.zeros(0, dtype=np.intp))
    assert ids.shape == (0,) and sums.shape == (0, 2)


# -- caches and dtypes -------------------------------------------------------------------


def make_layers(rng, dtype):
    return [
        (Linear(6, 3, rng, dtype), rng.standard_normal((4, 6)).astype(dtype)),
        (ReLU(), rng.standard_normal((4, 6)).astype(dtype)),
        (Flatten(), rng.standard_normal((4, 2, 3)).astype(dtype)),
        (Conv2d(2, 3, rng, dtype=dtype), rng.standard_normal((4, 2, 3, 5)).astype(dtype)),
        (CodeLinear(3, (3, 5), 4, rng, dtype), random_codes(rng, 4, 3, 5, 3, 0.02)),
        (ChangedPixels(Conv2d(2, 3, rng, dtype=dtype), 0.02), rng.standard_normal((6, 2, 8, 9)).astype(dtype)),
        (CodeConv2d(3, (3, 5), 2, rng, dtype=dtype), random_codes(rng, 4, 3, 5, 3, 0.05)),
        (CodeConv2d(3, (3, 5), 2, rng, dtype=dtype), random_codes(rng, 4, 3, 5, 3, 0.6)),
    ]


def test_predict_between_forward_and_backward_changes_nothing():
    rng = np.random.default_rng(17)
    for layer, inputs in make_layers(rng, np.float64):
        outputs = layer.forward(inputs)
        grad_out = rng.standard_normal(outputs.shape)
        reference = layer.backward(grad_out)
        reference_gradients = {name: array.copy() for name, array in layer.gradients().items()}

        layer.forward(inputs)
        if inputs.dtype == np.uint8:
            # Codes: predict on boards that take the other route (lookup or dense).
            other_occupied = 0.6 if np.count_nonzero(inputs) < 0.1 * inputs.size else 0.02
            other_inputs = random_codes(rng, 7, 3, 5, 3, other_occupied)
        else:
            other_inputs = rng.standard_normal((7,) + inputs.shape[1:])
        layer.predict(other_inputs)
        again = layer.backward(grad_out)
        if reference is not None:
            np.testing.assert_array_equal(again, reference)
        for name, array in layer.gradients().items():
            np.testing.assert_array_equal(array, reference_gradients[name])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_compute_in_their_dtype(dtype):
    rng = np.random.default_rng(18)
    for layer, inputs in make_layers(rng, dtype):
        outputs = layer.forward(inputs)
        assert outputs.dtype == dtype
        grad_inputs = layer.backward(np.ones_like(outputs))
        if grad_inputs is not None:
            assert grad_inputs.dtype == dtype
        for array in list(layer.parameters().values()) + list(layer.gradients().values()):
            assert array.dtype == dtype


def test_backward_fills_the_same_gradient_arrays():
    rng = np.random.default_rng(19)
    for layer, inputs in make_layers(rng, np.float32):
        before = {name: array for name, array in layer.gradients().items()}
        layer.backward(np.ones_like(layer.forward(inputs)))
        for name, array in layer.gradients().items():
            assert array is before[name]


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
