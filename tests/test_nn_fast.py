"""Fast layers: each computes what its textbook twin computes, on both of its routes.

CodeLinear is Linear on the one-hot board, CodeConv2d is Conv2d on it,
ChangedPixelsConv2d is Conv2d told which pixels changed, and BesideEmptyBoard
is its layers run one after the other. Each is also checked against finite
differences in float64 on each route, and for the protocol of nn/layers.py.
"""

import numpy as np
import pytest

from gradient_check import (
    assert_computes_in_dtype,
    assert_fills_the_same_gradient_arrays,
    assert_predict_leaves_the_cache,
    check_layer_gradients,
    direct_convolution,
    random_codes,
)
from retro_gamer.nn import fast
from retro_gamer.nn.changed_pixels import BesideEmptyBoard, ChangedPixelsConv2d, spread
from retro_gamer.nn.fast import CodeConv2d, CodeLinear, sum_groups
from retro_gamer.nn.layers import Conv2d, Linear, ReLU, one_hot


def assert_code_layer_matches_dense(code_layer, dense_layer, codes, one_hot_inputs, rng):
    """A layer fed board codes computes what its dense twin computes on the
    one-hot board: the same outputs (forward and predict) and gradients."""
    expected = dense_layer.forward(one_hot_inputs)
    np.testing.assert_allclose(code_layer.forward(codes), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(code_layer.predict(codes), expected, rtol=1e-5, atol=1e-5)
    grad_outputs = rng.standard_normal(expected.shape).astype(np.float32)
    dense_layer.backward(grad_outputs)
    assert code_layer.backward(grad_outputs) is None  # nobody needs dL/d(board codes)
    np.testing.assert_allclose(code_layer.grad_weight, dense_layer.grad_weight, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(code_layer.grad_bias, dense_layer.grad_bias, rtol=1e-5, atol=1e-5)


# -- CodeLinear ------------------------------------------------------------------------


def assert_linear_route(layer, occupied):
    """The layer took the lookup route for sparse boards, the dense route for full ones."""
    if occupied < fast.LINEAR_LOOKUP_UNTIL:
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
    assert_linear_route(code_layer, occupied)


@pytest.mark.parametrize("occupied", [0.01, 0.6], ids=["lookup-route", "dense-route"])
def test_code_linear_gradients(occupied):
    rng = np.random.default_rng(13)
    layer = CodeLinear(3, (5, 8), 2, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    codes = random_codes(rng, 5, 5, 8, 3, occupied)
    codes[0, 1, 1] = codes[1, 1, 1] = 3  # a weight row shared by two samples
    check_layer_gradients(layer, codes, rng)
    assert_linear_route(layer, occupied)


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


@pytest.mark.parametrize("layer_class", [CodeLinear, CodeConv2d])
def test_code_layers_refuse_wrong_board_shape_and_unknown_codes(layer_class):
    layer = layer_class(2, (5, 6), 4, np.random.default_rng(16))
    with pytest.raises(ValueError, match="shape"):
        layer.forward(np.zeros((1, 6, 5), dtype=np.uint8))
    one_unknown_cell = np.zeros((4, 5, 6), dtype=np.uint8)  # lookup route
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


# -- CodeConv2d -----------------------------------------------------------------------


def assert_conv_route(layer, occupied):
    """The layer took the lookup route for sparse boards, the dense route for full ones."""
    if occupied < fast.CONV_LOOKUP_UNTIL:
        assert layer.cells is not None and layer.columns is None
    else:
        assert layer.cells is None and layer.columns is not None


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


def test_code_conv2d_takes_the_dense_route_for_few_boards():
    layer = CodeConv2d(3, (4, 6), 2, np.random.default_rng(31))
    codes = np.zeros((fast.CONV_LOOKUP_FROM_BATCH - 1, 4, 6), dtype=np.uint8)
    codes[0, 1, 1] = 2
    layer.forward(codes)
    assert layer.cells is None
    layer.forward(np.concatenate([codes, codes]))
    assert layer.cells is not None


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


# -- ChangedPixelsConv2d ----------------------------------------------------------------


class ChangedPixels:
    """A ChangedPixelsConv2d told which pixels changed: a fixed random pattern per batch size, the last sample the reference."""

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
        return self.layer.forward_where_changed(inputs, self.changed(inputs))

    def predict(self, inputs):
        return self.layer.predict_where_changed(inputs, self.changed(inputs))

    def backward(self, grad_outputs):
        return self.layer.backward(grad_outputs)

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


def test_changed_pixels_match_direct_convolution():
    rng = np.random.default_rng(26)
    layer = ChangedPixelsConv2d(3, 2, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(2)
    wrapped = ChangedPixels(layer, 0.02)
    inputs = rng.standard_normal((6, 3, 9, 13))
    changed = wrapped.changed(inputs)
    changed[0, 0, 0] = changed[1, 8, 12] = True  # corners
    inputs = like_the_reference(rng, inputs, changed)
    expected = direct_convolution(inputs, layer.weight, layer.bias)
    np.testing.assert_allclose(layer.forward_where_changed(inputs, changed), expected, rtol=1e-10, atol=1e-12)
    assert layer.pixels is not None
    np.testing.assert_allclose(layer.predict_where_changed(inputs, changed), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.forward(inputs), expected, rtol=1e-10, atol=1e-12)  # Conv2d's own
    assert layer.pixels is None


@pytest.mark.parametrize("changed_share", [0.02, 0.0], ids=["few-changed", "none-changed"])
def test_changed_pixels_gradients(changed_share):
    # The exact gradients of what this route computes, whatever the inputs:
    # an input pixel that no computed window reads gets gradient zero.
    rng = np.random.default_rng(27)
    layer = ChangedPixelsConv2d(2, 3, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(3)
    wrapped = ChangedPixels(layer, changed_share)
    inputs = rng.standard_normal((5, 2, 8, 11))
    check_layer_gradients(wrapped, inputs, rng)
    assert layer.pixels is not None


def test_changed_pixels_every_pixel_route_gradients():
    rng = np.random.default_rng(32)
    layer = ChangedPixelsConv2d(2, 3, rng, dtype=np.float64)
    layer.bias[:] = rng.standard_normal(3)
    check_layer_gradients(ChangedPixels(layer, 0.5), rng.standard_normal((5, 2, 6, 7)), rng)
    assert layer.pixels is None


def test_changed_pixels_give_the_full_convolutions_parameter_gradients():
    rng = np.random.default_rng(28)
    full = Conv2d(3, 4, np.random.default_rng(29), dtype=np.float64)
    changed_only = ChangedPixelsConv2d(3, 4, np.random.default_rng(29), dtype=np.float64)
    np.testing.assert_array_equal(changed_only.weight, full.weight)  # same initialisation
    full.bias[:] = changed_only.bias[:] = rng.standard_normal(4)
    inputs = rng.standard_normal((7, 3, 10, 12))
    changed = ChangedPixels(changed_only, 0.02).changed(inputs)
    inputs = like_the_reference(rng, inputs, changed)
    grad_outputs = rng.standard_normal((7, 4, 10, 12))
    full.forward(inputs)
    changed_only.forward_where_changed(inputs, changed)
    assert changed_only.pixels is not None
    grad_inputs_full = full.backward(grad_outputs)
    grad_inputs = changed_only.backward(grad_outputs)
    np.testing.assert_allclose(changed_only.grad_weight, full.grad_weight, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(changed_only.grad_bias, full.grad_bias, rtol=1e-10, atol=1e-12)
    # An unchanged pixel's gradient went to the reference instead: the sums over the samples agree.
    np.testing.assert_allclose(grad_inputs.sum(axis=0), grad_inputs_full.sum(axis=0), rtol=1e-10, atol=1e-12)


def test_changed_pixels_computes_every_pixel_when_many_change():
    rng = np.random.default_rng(30)
    layer = ChangedPixelsConv2d(2, 2, rng, dtype=np.float64)
    inputs = rng.standard_normal((5, 2, 6, 8))
    for changed_share, computes_every_pixel in ((0.02, False), (0.3, True)):
        changed = ChangedPixels(layer, changed_share).changed(inputs)
        outputs = layer.forward_where_changed(inputs, changed)
        assert (layer.pixels is None) == computes_every_pixel
    np.testing.assert_allclose(outputs, direct_convolution(inputs, layer.weight, layer.bias), rtol=1e-10, atol=1e-12)
    # One board and the reference: the reference alone is half of the pixels.
    changed = np.zeros((2, 6, 8), dtype=bool)
    changed[0, 3, 3] = True
    layer.forward_where_changed(inputs[:2], changed)
    assert layer.pixels is None


# -- BesideEmptyBoard ---------------------------------------------------------------------


def conv_chain(seed, dtype, channels=(4, 3, 2), num_codes=3, board_shape=(8, 12)):
    """CodeConv2d, ReLU, then ChangedPixelsConv2d and ReLU pairs, with random biases."""
    rng = np.random.default_rng(seed)
    layers = [CodeConv2d(num_codes, board_shape, channels[0], rng, dtype=dtype), ReLU()]
    for in_channels, out_channels in zip(channels[:-1], channels[1:]):
        layers += [ChangedPixelsConv2d(in_channels, out_channels, rng, dtype=dtype), ReLU()]
    for layer in layers[::2]:
        layer.bias[:] = rng.standard_normal(layer.bias.shape) * 0.1
    return layers


def test_beside_empty_board_computes_the_plain_chain():
    rng = np.random.default_rng(33)
    boards = random_codes(rng, 6, 8, 12, 3, 0.02)
    boards[2, 7, 11] = 1
    boards[4] = 0  # an empty board: nothing changed
    beside = BesideEmptyBoard(conv_chain(34, np.float64))
    # The textbook twins: Conv2d on the one-hot board, ReLU, Conv2d, ReLU ...
    plain = [Conv2d(3, 4, np.random.default_rng(0), dtype=np.float64, input_gradient=False), ReLU(),
             Conv2d(4, 3, np.random.default_rng(0), dtype=np.float64), ReLU(),
             Conv2d(3, 2, np.random.default_rng(0), dtype=np.float64), ReLU()]
    for twin, layer in zip(plain, beside.layers):
        for name, array in layer.parameters().items():
            twin.parameters()[name][...] = array
    expected = one_hot(boards, 3, np.float64)
    for layer in plain:
        expected = layer.forward(expected)
    outputs = beside.forward(boards)
    assert beside.empty_board_added
    assert beside.layers[0].cells is not None and beside.layers[2].pixels is not None
    np.testing.assert_allclose(outputs, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(beside.predict(boards), expected, rtol=1e-10, atol=1e-12)
    grad_outputs = rng.standard_normal(outputs.shape)
    assert beside.backward(grad_outputs) is None
    grad = grad_outputs
    for layer in reversed(plain):
        grad = layer.backward(grad)
    for twin, layer in zip(plain, beside.layers):
        for name, gradient in layer.gradients().items():
            np.testing.assert_allclose(gradient, twin.gradients()[name], rtol=1e-10, atol=1e-12)


def test_beside_empty_board_runs_few_boards_plainly():
    beside = BesideEmptyBoard(conv_chain(35, np.float64))
    boards = random_codes(np.random.default_rng(36), fast.EMPTY_BOARD_FROM_BATCH - 1, 8, 12, 3, 0.02)
    assert beside.forward(boards).shape == (len(boards), 2, 8, 12)
    assert not beside.empty_board_added and beside.layers[2].pixels is None
    assert list(beside.parameters()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_beside_empty_board_gradients():
    rng = np.random.default_rng(37)
    beside = BesideEmptyBoard(conv_chain(38, np.float64, channels=(2, 3), board_shape=(8, 12)))
    boards = random_codes(rng, 5, 8, 12, 3, 0.01)
    boards[0, 0, 0] = boards[1, 7, 11] = 2  # corners
    check_layer_gradients(beside, boards, rng)
    assert beside.empty_board_added and beside.layers[2].pixels is not None


# -- the protocol ---------------------------------------------------------------------------


def make_layers(rng, dtype):
    return [
        (CodeLinear(3, (3, 5), 4, rng, dtype), random_codes(rng, 4, 3, 5, 3, 0.02)),
        (CodeLinear(3, (3, 5), 4, rng, dtype), random_codes(rng, 4, 3, 5, 3, 0.6)),
        (ChangedPixels(ChangedPixelsConv2d(2, 3, rng, dtype=dtype), 0.02), rng.standard_normal((6, 2, 8, 9)).astype(dtype)),
        (CodeConv2d(3, (3, 5), 2, rng, dtype=dtype), random_codes(rng, 4, 3, 5, 3, 0.05)),
        (CodeConv2d(3, (3, 5), 2, rng, dtype=dtype), random_codes(rng, 4, 3, 5, 3, 0.6)),
        (BesideEmptyBoard(conv_chain(39, dtype, board_shape=(3, 5))), random_codes(rng, 5, 3, 5, 3, 0.05)),
    ]


def test_predict_between_forward_and_backward_changes_nothing():
    rng = np.random.default_rng(17)
    for layer, inputs in make_layers(rng, np.float64):
        if inputs.dtype == np.uint8:
            # Codes: predict on boards that take the other route (lookup or dense).
            other_occupied = 0.6 if np.count_nonzero(inputs) < 0.1 * inputs.size else 0.02
            other_inputs = random_codes(rng, 7, 3, 5, 3, other_occupied)
        else:
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
