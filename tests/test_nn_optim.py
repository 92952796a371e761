"""Huber loss and Adam: exact values, gradients, clipping, decay, dtypes, learning."""

import numpy as np
import pytest
import tomlkit

from retro_gamer.errors import CheckpointError
from retro_gamer.nn import Adam, QNetwork, huber_loss

# -- Huber loss ------------------------------------------------------------------------


def test_huber_values_and_gradient():
    predictions = np.array([0.5, 3.0, -2.0, 1.0], dtype=np.float32)
    targets = np.zeros(4, dtype=np.float32)
    loss, grad = huber_loss(predictions, targets)
    # 0.125 (quadratic), 2.5 and 1.5 (linear), 0.5 (the joint)
    assert loss == pytest.approx((0.125 + 2.5 + 1.5 + 0.5) / 4)
    np.testing.assert_allclose(grad, np.array([0.5, 1.0, -1.0, 1.0]) / 4)
    assert grad.dtype == np.float32


def test_huber_weights_multiply_each_sample():
    predictions = np.array([0.5, 3.0])
    targets = np.array([0.0, 0.0])
    loss, grad = huber_loss(predictions, targets, weights=np.array([2.0, 0.5]))
    assert loss == pytest.approx((2.0 * 0.125 + 0.5 * 2.5) / 2)
    np.testing.assert_allclose(grad, [2.0 * 0.5 / 2, 0.5 * 1.0 / 2])


def test_huber_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    errors = rng.uniform(0.1, 3.0, 12) * rng.choice([-1.0, 1.0], 12)
    errors[np.abs(np.abs(errors) - 1.0) < 0.05] = 0.5  # keep away from the joint at |e| = 1
    targets = rng.standard_normal(12)
    predictions = targets + errors
    weights = rng.uniform(0.2, 1.0, 12)
    _, grad = huber_loss(predictions, targets, weights)
    step = 1e-6
    for index in range(12):
        up, down = predictions.copy(), predictions.copy()
        up[index] += step
        down[index] -= step
        numeric = (huber_loss(up, targets, weights)[0] - huber_loss(down, targets, weights)[0]) / (2 * step)
        assert grad[index] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_huber_keeps_float32_with_float64_targets_and_weights():
    predictions = np.ones(3, dtype=np.float32)
    loss, grad = huber_loss(predictions, np.zeros(3), weights=np.full(3, 0.5))
    assert grad.dtype == np.float32 and isinstance(loss, float)


def test_huber_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        huber_loss(np.zeros(4), np.zeros((4, 1)))


def network_gradients_for(network, boards, state_values, actions, targets):
    """One DQN-style backward pass: the loss reaches only the taken actions."""
    q_values = network.forward(boards, state_values)
    rows = np.arange(len(actions))
    _, grad_taken = huber_loss(q_values[rows, actions], targets)
    grad_q_values = np.zeros_like(q_values)
    grad_q_values[rows, actions] = grad_taken
    network.backward(grad_q_values)
    return [gradient.copy() for gradient in network.gradients()]


def test_duplicating_every_sample_leaves_gradients_unchanged():
    rng = np.random.default_rng(1)
    network = QNetwork((4, 6), 3, 2, 3, [8], conv_channels=[2], rng=rng, dtype=np.float64)
    boards = rng.integers(0, 4, size=(5, 4, 6)).astype(np.uint8)
    state_values = rng.standard_normal((5, 2))
    actions = rng.integers(3, size=5)
    targets = rng.standard_normal(5) * 3
    single = network_gradients_for(network, boards, state_values, actions, targets)
    doubled = network_gradients_for(
        network,
        np.concatenate([boards, boards]),
        np.concatenate([state_values, state_values]),
        np.concatenate([actions, actions]),
        np.concatenate([targets, targets]),
    )
    for once, twice in zip(single, doubled):
        np.testing.assert_allclose(once, twice, rtol=1e-12, atol=1e-15)


# -- Adam ---------------------------------------------------------------------------------


def quadratic_gradient(weights, curvature, gradient):
    """f(w) = sum(curvature * w^2) / 2, so df/dw = curvature * w."""
    np.multiply(curvature, weights, out=gradient)


def test_adam_first_step_moves_every_weight_by_lr_times_sign():
    weights = np.array([1.0, -2.0, 0.5, -0.25], dtype=np.float32)
    curvature = np.array([1.0, 3.0, 10.0, 0.5], dtype=np.float32)
    gradient = np.zeros_like(weights)
    optimizer = Adam([weights], learning_rate=0.01)
    start = weights.copy()
    quadratic_gradient(weights, curvature, gradient)
    optimizer.step([gradient])
    np.testing.assert_allclose(weights, start - 0.01 * np.sign(start), rtol=0, atol=1e-7)
    assert optimizer.t == 1


@pytest.mark.parametrize("textbook", [False, True], ids=["in-blocks", "textbook"])
def test_adam_matches_hand_computed_updates(textbook):
    learning_rate, beta1, beta2, epsilon = 0.1, 0.8, 0.9, 1e-3
    weights = np.array([1.0, -2.0, 0.5], dtype=np.float64)
    curvature = np.array([1.0, 3.0, 0.1])
    gradient = np.zeros_like(weights)
    optimizer = Adam([weights], learning_rate, beta1, beta2, epsilon, textbook=textbook)
    expected = weights.copy()
    m = np.zeros(3)
    v = np.zeros(3)
    for t in range(1, 4):
        g = curvature * expected
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        expected = expected - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
        quadratic_gradient(weights, curvature, gradient)
        optimizer.step([gradient])
        np.testing.assert_allclose(weights, expected, rtol=1e-12)
        np.testing.assert_allclose(optimizer.m[0], m, rtol=1e-12)
        np.testing.assert_allclose(optimizer.v[0], v, rtol=1e-12)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_update_in_blocks_computes_the_textbook_update(dtype, rtol):
    # Arrays smaller than a block, of several blocks, and ending in a partial block.
    rng = np.random.default_rng(3)
    shapes = [(3,), (40, 5), (7, 3, 3)]
    fast_weights = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    textbook_weights = [weights.copy() for weights in fast_weights]
    fast = Adam(fast_weights, learning_rate=0.01, max_grad_norm=5.0)
    fast.BLOCK_SIZE = 16
    textbook = Adam(textbook_weights, learning_rate=0.01, max_grad_norm=5.0, textbook=True)
    for _ in range(5):
        gradients = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
        fast.step([gradient.copy() for gradient in gradients])
        textbook.step(gradients)
        for computed, expected in zip(fast_weights + fast.m + fast.v, textbook_weights + textbook.m + textbook.v):
            assert computed.dtype == dtype
            np.testing.assert_allclose(computed, expected, rtol=rtol, atol=rtol * 1e-3)


def test_adam_blocks_change_no_bit():
    rng = np.random.default_rng(4)
    blocked_weights = rng.standard_normal(1000).astype(np.float32)
    whole_weights = blocked_weights.copy()
    blocked = Adam([blocked_weights], learning_rate=0.01)
    blocked.BLOCK_SIZE = 64
    whole = Adam([whole_weights], learning_rate=0.01)
    for _ in range(3):
        gradient = rng.standard_normal(1000).astype(np.float32)
        blocked.step([gradient.copy()])
        whole.step([gradient])
    assert np.array_equal(blocked_weights, whole_weights)
    assert np.array_equal(blocked.m[0], whole.m[0]) and np.array_equal(blocked.v[0], whole.v[0])


def test_adam_descends_the_quadratic():
    weights = np.array([3.0, -2.0], dtype=np.float32)
    gradient = np.zeros_like(weights)
    curvature = np.array([1.0, 5.0], dtype=np.float32)
    optimizer = Adam([weights], learning_rate=0.05)
    for _ in range(500):
        quadratic_gradient(weights, curvature, gradient)
        optimizer.step([gradient])
    assert np.abs(weights).max() < 0.05


def test_gradient_clipping_scales_to_max_norm_and_returns_the_norm_before():
    weights = np.zeros(2, dtype=np.float32)
    gradient = np.array([3.0, 4.0], dtype=np.float32)
    optimizer = Adam([weights], max_grad_norm=1.0)
    assert optimizer.step([gradient]) == pytest.approx(5.0)
    np.testing.assert_allclose(gradient, [0.6, 0.8], rtol=1e-6)

    gradient[:] = [0.3, 0.4]
    assert optimizer.step([gradient]) == pytest.approx(0.5)
    np.testing.assert_allclose(gradient, [0.3, 0.4], rtol=1e-6)  # under the limit: untouched

    gradient[:] = [30.0, 40.0]
    no_clipping = Adam([weights], max_grad_norm=None)
    assert no_clipping.step([gradient]) == pytest.approx(50.0)
    np.testing.assert_array_equal(gradient, [30.0, 40.0])


def test_gradient_norm_covers_every_parameter():
    first = np.zeros(2, dtype=np.float32)
    second = np.zeros((2, 2), dtype=np.float32)
    grads = [np.array([1.0, 2.0], dtype=np.float32), np.full((2, 2), 2.0, dtype=np.float32)]
    optimizer = Adam([first, second], max_grad_norm=1.5)
    assert optimizer.step(grads) == pytest.approx(np.sqrt(1 + 4 + 4 * 4))
    total = np.sqrt(sum(float(np.sum(grad * grad)) for grad in grads))
    assert total == pytest.approx(1.5, rel=1e-6)


def test_step_refuses_gradients_that_do_not_fit():
    optimizer = Adam([np.zeros((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)])
    with pytest.raises(ValueError, match="one gradient array per parameter"):
        optimizer.step([np.zeros((1, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)])  # would broadcast
    with pytest.raises(ValueError, match="one gradient array per parameter"):
        optimizer.step([np.zeros((3, 2), dtype=np.float32)])


def test_adam_state_arrays_round_trip():
    weights = np.array([1.0, -1.0], dtype=np.float32)
    gradient = np.array([0.5, 0.25], dtype=np.float32)
    optimizer = Adam([weights], learning_rate=0.02, beta1=0.85, beta2=0.99, epsilon=1e-6)
    optimizer.step([gradient])
    optimizer.learning_rate *= 0.9
    arrays = optimizer.state_arrays()
    assert set(arrays) == {"adam/t", "adam/learning_rate", "adam/beta1", "adam/beta2", "adam/epsilon", "adam/m/0", "adam/v/0"}
    assert all(isinstance(array, np.ndarray) and array.dtype != object for array in arrays.values())

    restored = Adam([weights.copy()])
    restored.load_state_arrays(arrays)
    assert restored.t == 1
    assert restored.learning_rate == optimizer.learning_rate
    assert (restored.beta1, restored.beta2, restored.epsilon) == (0.85, 0.99, 1e-6)
    np.testing.assert_array_equal(restored.m[0], optimizer.m[0])
    np.testing.assert_array_equal(restored.v[0], optimizer.v[0])


def test_adam_load_refuses_misfits_with_checkpoint_error():
    optimizer = Adam([np.zeros(3, dtype=np.float32)])
    other = Adam([np.zeros(4, dtype=np.float32)])
    with pytest.raises(CheckpointError) as caught:
        optimizer.load_state_arrays(other.state_arrays())
    assert "adam/m/0" in str(caught.value) and "(4,)" in str(caught.value) and "(3,)" in str(caught.value)
    arrays = optimizer.state_arrays()
    del arrays["adam/t"]
    with pytest.raises(CheckpointError, match="adam/t"):
        optimizer.load_state_arrays(arrays)


# -- everything together ------------------------------------------------------------------


def learning_step(network, optimizer, boards, state_values, actions, targets, weights=None):
    q_values = network.forward(boards, state_values)
    rows = np.arange(len(actions))
    loss, grad_taken = huber_loss(q_values[rows, actions], targets, weights)
    grad_q_values = np.zeros_like(q_values)
    grad_q_values[rows, actions] = grad_taken
    network.backward(grad_q_values)
    optimizer.step(network.gradients())
    return loss


@pytest.mark.parametrize(
    "learning_rate",
    [np.float64(1e-3), tomlkit.parse("learning_rate = 0.001")["learning_rate"], 1e-3],
    ids=["numpy-float64", "tomlkit-Float", "python-float"],
)
@pytest.mark.parametrize("conv_channels", [None, [2]], ids=["mlp", "conv"])
def test_everything_stays_float32(learning_rate, conv_channels):
    rng = np.random.default_rng(2)
    network = QNetwork((4, 6), 3, 2, 3, [8], conv_channels, rng=rng)
    optimizer = Adam(network.parameters(), learning_rate, max_grad_norm=np.float64(10.0))
    for _ in range(3):
        boards = rng.integers(0, 4, size=(6, 4, 6)).astype(np.uint8)
        state_values = rng.standard_normal((6, 2))  # float64 on purpose
        targets = rng.standard_normal(6)  # float64 on purpose
        weights = rng.uniform(0.1, 1.0, 6)  # float64 importance weights
        learning_step(network, optimizer, boards, state_values, rng.integers(3, size=6), targets, weights)
        optimizer.learning_rate *= 0.99  # as the training loop decays it
    arrays = network.parameters() + network.gradients() + optimizer.m + optimizer.v
    assert all(array.dtype == np.float32 for array in arrays)
    assert network.predict(boards, state_values).dtype == np.float32
    assert type(optimizer.learning_rate) is float


def test_small_regression_converges():
    # Q(action 0) = number of apples (code 1) on a 3x4 board, Q(action 1) = the state value.
    rng = np.random.default_rng(3)
    network = QNetwork((3, 4), 2, 1, 2, [32], rng=rng)
    optimizer = Adam(network.parameters(), learning_rate=0.01)
    rows = np.arange(32)

    def batch():
        boards = rng.integers(0, 3, size=(32, 3, 4)).astype(np.uint8)
        state_values = rng.uniform(-1, 1, (32, 1)).astype(np.float32)
        answers = np.stack([(boards == 1).sum(axis=(1, 2)) / 4.0, state_values[:, 0]], axis=1)
        return boards, state_values, answers.astype(np.float32)

    test_boards, test_state_values, test_answers = batch()

    def test_error():
        return float(np.mean((network.predict(test_boards, test_state_values) - test_answers) ** 2))

    error_before = test_error()
    for _ in range(400):
        boards, state_values, answers = batch()
        actions = rng.integers(2, size=32)
        learning_step(network, optimizer, boards, state_values, actions, answers[rows, actions])
    assert test_error() < 0.01 * error_before
    assert test_error() < 0.02
