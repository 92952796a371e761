"""QNetwork: composite gradient checks, the joined first layer, copies, state arrays."""

import numpy as np
import pytest

from gradient_check import numerical_gradient
from retro_gamer.errors import CheckpointError
from retro_gamer.nn import Linear, QNetwork, fast, one_hot


def random_codes(rng, batch, board_shape, num_codes, occupied):
    codes = rng.integers(1, num_codes + 1, size=(batch,) + board_shape).astype(np.uint8)
    codes[rng.random((batch,) + board_shape) >= occupied] = 0
    return codes


def check_network_gradients(network, boards, state_values, rng):
    """Loss = sum(Q * R) for fixed random R: compare backward with finite differences."""
    q_values = network.forward(boards, state_values)
    weights_of_loss = rng.standard_normal(q_values.shape)

    def loss():
        return float(np.sum(network.predict(boards, state_values) * weights_of_loss))

    network.backward(weights_of_loss)
    for name, parameter, gradient in zip(network.parameter_names(), network.parameters(), network.gradients()):
        numeric = numerical_gradient(loss, parameter)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def randomise_biases(network, rng):
    """Nonzero biases, so the gradient checks would notice a bias mix-up."""
    for name, parameter in zip(network.parameter_names(), network.parameters()):
        if name.endswith("bias"):
            parameter[:] = rng.standard_normal(parameter.shape) * 0.1


@pytest.mark.parametrize("occupied", [0.01, 0.5], ids=["lookup-route", "dense-route"])
def test_mlp_gradients(occupied):
    rng = np.random.default_rng(0)
    network = QNetwork((8, 12), 3, 2, 3, [5, 4], rng=rng, dtype=np.float64)
    randomise_biases(network, rng)
    boards = random_codes(rng, 4, (8, 12), 3, occupied)
    boards[0, 1, 2] = boards[1, 1, 2] = 1  # a weight row two samples share
    boards[2, 7, 11] = 3
    state_values = rng.standard_normal((4, 2))
    check_network_gradients(network, boards, state_values, rng)
    took_dense_route = network.board_layer.one_hot_inputs is not None
    assert took_dense_route == (occupied > fast.LINEAR_LOOKUP_UNTIL)


def conv_routes(network):
    """(first convolution took the lookup route, second computed only the changed pixels)."""
    layers = network.convolutions.layers
    return layers[0].cells is not None, layers[2].pixels is not None


@pytest.mark.parametrize("occupied", [0.01, 0.4], ids=["lookup-and-changed-pixels", "dense-routes"])
def test_conv_network_gradients_with_state_values_joined_before_the_head(occupied):
    rng = np.random.default_rng(1)
    network = QNetwork((8, 14), 3, 2, 3, [5], conv_channels=[2, 3], rng=rng, dtype=np.float64)
    randomise_biases(network, rng)
    assert "conv1.weight" in network.parameter_names()
    assert "dense1.state.weight" in network.parameter_names()
    boards = random_codes(rng, 6, (8, 14), 3, occupied)
    boards[0, 0, 0] = boards[1, 7, 13] = 2  # corners
    state_values = rng.standard_normal((6, 2))
    check_network_gradients(network, boards, state_values, rng)
    expected_routes = (True, True) if occupied < 0.1 else (False, False)
    assert conv_routes(network) == expected_routes


def test_conv_network_routes_agree(monkeypatch):
    # The same network on sparse boards: the lookup and the changed pixels
    # with an empty reference board; the same with dense convolutions; and
    # without the reference board. Same Q-values, same gradients.
    rng = np.random.default_rng(18)
    network = QNetwork((8, 12), 3, 2, 3, [5], conv_channels=[4, 3, 2], rng=rng, dtype=np.float64)
    randomise_biases(network, rng)
    boards = random_codes(rng, 6, (8, 12), 3, 0.02)
    boards[2, 7, 11] = 1
    boards[4] = 0  # an empty board: nothing changed
    state_values = rng.standard_normal((6, 2))
    grad_q_values = rng.standard_normal((6, 3))
    results = []
    for sparse_routes, reference_from in ((True, 4), (False, 4), (True, 100)):
        monkeypatch.setattr(fast, "CONV_LOOKUP_UNTIL", 0.1 if sparse_routes else 0.0)
        monkeypatch.setattr(fast, "CHANGED_PIXELS_UNTIL", 0.5 if sparse_routes else 0.0)
        monkeypatch.setattr(fast, "EMPTY_BOARD_FROM_BATCH", reference_from)
        q_values = network.forward(boards, state_values)
        network.backward(grad_q_values)
        results.append([q_values] + [gradient.copy() for gradient in network.gradients()])
        lookup, changed_pixels = conv_routes(network)
        assert lookup == sparse_routes
        assert changed_pixels == (sparse_routes and reference_from == 4)
        np.testing.assert_allclose(network.predict(boards, state_values), q_values, rtol=1e-12, atol=1e-12)
    for computed in results[1:]:
        for value, expected in zip(computed, results[0]):
            np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-12)


def test_state_only_and_board_only_networks_gradients():
    rng = np.random.default_rng(2)
    state_only = QNetwork(None, 0, 3, 2, [4], rng=rng, dtype=np.float64)
    assert state_only.parameter_names() == ["dense1.state.weight", "dense1.state.bias", "dense2.weight", "dense2.bias"]
    check_network_gradients(state_only, None, rng.standard_normal((5, 3)), rng)
    board_only = QNetwork((3, 4), 2, 0, 2, [4], rng=rng, dtype=np.float64)
    boards = random_codes(rng, 5, (3, 4), 2, 0.5)
    check_network_gradients(board_only, boards, None, rng)
    assert board_only.forward(boards, np.zeros((5, 0))).shape == (5, 2)


def test_network_without_hidden_layers_is_linear():
    rng = np.random.default_rng(3)
    network = QNetwork((3, 4), 2, 1, 2, [], rng=rng, dtype=np.float64)
    check_network_gradients(network, random_codes(rng, 3, (3, 4), 2, 0.5), rng.standard_normal((3, 1)), rng)


def test_first_layer_is_linear_over_one_hot_joined_with_state_values():
    rng = np.random.default_rng(4)
    board_shape, num_codes, state_size = (4, 5), 3, 2
    network = QNetwork(board_shape, num_codes, state_size, 3, [], rng=rng, dtype=np.float64)
    randomise_biases(network, rng)
    joined = Linear(num_codes * 20 + state_size, 3, rng, dtype=np.float64)
    joined.weight[:] = np.vstack([network.board_layer.weight, network.state_layer.weight])
    joined.bias[:] = network.board_layer.bias
    boards = random_codes(rng, 6, board_shape, num_codes, 0.3)
    state_values = rng.standard_normal((6, state_size))
    inputs = np.concatenate([one_hot(boards, num_codes, np.float64).reshape(6, -1), state_values], axis=1)
    np.testing.assert_allclose(network.predict(boards, state_values), joined.predict(inputs), rtol=1e-12)


def test_output_shape_dtype_and_small_initial_q_values():
    rng = np.random.default_rng(5)
    network = QNetwork((16, 32), 6, 2, 5, [128, 64], rng=rng)
    boards = random_codes(rng, 8, (16, 32), 6, 0.02)
    q_values = network.predict(boards, rng.standard_normal((8, 2)))  # float64 state values
    assert q_values.shape == (8, 5) and q_values.dtype == np.float32
    assert np.abs(q_values).max() < 1.0
    assert len(set(q_values[0].tolist())) == 5  # no built-in ties


@pytest.mark.parametrize("conv_channels", [[2], [2, 3]], ids=["one-convolution", "changed-pixels"])
def test_predict_between_forward_and_backward_changes_nothing(conv_channels):
    rng = np.random.default_rng(6)
    network = QNetwork((8, 14), 3, 2, 3, [5], conv_channels=conv_channels, rng=rng)
    boards = random_codes(rng, 6, (8, 14), 3, 0.01)
    state_values = rng.standard_normal((6, 2)).astype(np.float32)
    grad_q_values = rng.standard_normal((6, 3)).astype(np.float32)
    network.forward(boards, state_values)
    network.backward(grad_q_values)
    reference = [gradient.copy() for gradient in network.gradients()]

    network.forward(boards, state_values)
    # Other batches: another sparse one, a crowded one, and a single board (no reference board).
    for batch, occupied in ((9, 0.01), (5, 0.5), (1, 0.01)):
        other_boards = random_codes(rng, batch, (8, 14), 3, occupied)
        network.predict(other_boards, rng.standard_normal((batch, 2)).astype(np.float32))
    network.backward(grad_q_values)
    for gradient, expected in zip(network.gradients(), reference):
        np.testing.assert_array_equal(gradient, expected)


def test_wrong_input_shapes_are_refused():
    network = QNetwork((4, 6), 3, 2, 3, [5], rng=np.random.default_rng(7))
    boards = np.zeros((2, 4, 6), dtype=np.uint8)
    with pytest.raises(ValueError, match="boards"):
        network.predict(np.zeros((2, 6, 4), dtype=np.uint8), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="state_values"):
        network.predict(boards, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="batch sizes differ"):
        network.predict(boards, np.zeros((3, 2)))


def test_impossible_networks_are_refused():
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError):
        QNetwork(None, 0, 0, 3, [4], rng=rng)
    with pytest.raises(ValueError):
        QNetwork(None, 0, 2, 3, [4], conv_channels=[4], rng=rng)
    with pytest.raises(ValueError, match="rng"):
        QNetwork((2, 2), 1, 0, 3, [4])


def test_parameters_and_gradients_line_up():
    network = QNetwork((4, 6), 3, 2, 3, [5, 4], conv_channels=[2, 3], rng=np.random.default_rng(9))
    names, parameters, gradients = network.parameter_names(), network.parameters(), network.gradients()
    assert len(names) == len(set(names)) == len(parameters) == len(gradients)
    for parameter, gradient in zip(parameters, gradients):
        assert parameter.shape == gradient.shape and parameter is not gradient
    # The gradient arrays are the ones backward fills: an optimizer may keep them.
    network.forward(np.ones((2, 4, 6), dtype=np.uint8), np.ones((2, 2), dtype=np.float32))
    network.backward(np.ones((2, 3), dtype=np.float32))
    assert all(gradient.any() for gradient in gradients)


def test_same_seed_same_weights():
    first = QNetwork((4, 6), 3, 2, 3, [5], rng=np.random.default_rng(10))
    second = QNetwork((4, 6), 3, 2, 3, [5], rng=np.random.default_rng(10))
    for mine, theirs in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(mine, theirs)


def test_copy_from_copies_and_never_aliases():
    online = QNetwork((4, 6), 3, 2, 3, [5], conv_channels=[2], rng=np.random.default_rng(11))
    target = QNetwork((4, 6), 3, 2, 3, [5], conv_channels=[2], rng=np.random.default_rng(12))
    target.copy_from(online)
    for mine, theirs in zip(target.parameters(), online.parameters()):
        np.testing.assert_array_equal(mine, theirs)
        assert not np.shares_memory(mine, theirs)
    boards = np.ones((1, 4, 6), dtype=np.uint8)
    state_values = np.ones((1, 2), dtype=np.float32)
    before = target.predict(boards, state_values)
    for parameter in online.parameters():
        parameter += 1.0
    np.testing.assert_array_equal(target.predict(boards, state_values), before)
    with pytest.raises(ValueError, match="same shape"):
        target.copy_from(QNetwork((4, 6), 3, 2, 3, [6], conv_channels=[2], rng=np.random.default_rng(0)))


def test_describe_lists_layers_shapes_and_total():
    network = QNetwork((16, 32), 6, 2, 5, [128, 64], conv_channels=[16, 32], rng=np.random.default_rng(13))
    lines = network.describe()
    text = "\n".join(lines)
    assert all(isinstance(line, str) and "\n" not in line for line in lines)
    assert "16x32" in lines[0] and "5 Q-values" in lines[0]
    for expected in ("conv1", "6x16x32 -> 16x16x32", "conv2", "16384", "dense3", "64 -> 5"):
        assert expected in text
    total = sum(parameter.size for parameter in network.parameters())
    assert total == (16 * 6 * 9 + 16) + (32 * 16 * 9 + 32) + (16384 * 128 + 128) + 2 * 128 + (128 * 64 + 64) + (64 * 5 + 5)
    assert lines[-1].strip() == f"total {total:,} parameters"


def test_state_arrays_round_trip_exactly():
    source = QNetwork((4, 6), 3, 2, 3, [5], conv_channels=[2], rng=np.random.default_rng(14))
    arrays = source.state_arrays()
    assert "net/conv1.weight" in arrays and "net/dense2.bias" in arrays
    assert all(array.dtype == np.float32 for array in arrays.values())
    destination = QNetwork((4, 6), 3, 2, 3, [5], conv_channels=[2], rng=np.random.default_rng(15))
    destination.load_state_arrays(dict(arrays, **{"replay/other": np.zeros(3)}))
    for mine, theirs in zip(destination.parameters(), source.parameters()):
        np.testing.assert_array_equal(mine, theirs)
        assert not np.shares_memory(mine, theirs)
    other_prefix = source.state_arrays(prefix="target/")
    assert all(name.startswith("target/") for name in other_prefix)


def test_load_state_arrays_names_the_misfit_and_changes_nothing():
    small = QNetwork((4, 6), 3, 2, 3, [5], rng=np.random.default_rng(16))
    big = QNetwork((4, 6), 3, 2, 3, [7], rng=np.random.default_rng(17))
    before = [parameter.copy() for parameter in big.parameters()]
    with pytest.raises(CheckpointError) as caught:
        big.load_state_arrays(small.state_arrays())
    message = str(caught.value)
    assert "net/dense1.board.weight" in message and "(72, 5)" in message and "(72, 7)" in message
    for parameter, saved in zip(big.parameters(), before):
        np.testing.assert_array_equal(parameter, saved)
    arrays = small.state_arrays()
    del arrays["net/dense2.bias"]
    with pytest.raises(CheckpointError, match="net/dense2.bias"):
        small.load_state_arrays(arrays)
