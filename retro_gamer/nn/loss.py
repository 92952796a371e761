"""Huber loss: how far the predicted Q-values are from their targets.

For one sample with error ``e = prediction - target`` and ``delta = 1``:

    huber(e) = e^2 / 2                    if |e| <= delta
             = delta * (|e| - delta / 2)  otherwise

Near the target it is the squared error; far from it, it grows only
linearly. Its derivative is therefore ``clip(e, -delta, delta)``: a sample
whose target is wildly off (an unexpected reward, a bad bootstrap) pushes
the network no harder than one that is off by ``delta``. That keeps DQN's
moving targets from blowing up the weights.

With importance-sampling weights ``w`` (prioritized replay; 1 otherwise)
over a batch of ``N`` samples:

    L     = (1/N) sum_n w_n huber(e_n)
    dL/dp = w_n clip(e_n, -delta, delta) / N

The batch mean is taken here, once; the layers then sum over the batch.
"""

import numpy as np


def huber_loss(predictions, targets, weights=None, delta=1.0):
    """Weighted mean Huber loss and its gradient with respect to ``predictions``.

    ``predictions``, ``targets`` and ``weights`` are ``(batch,)``: one
    prediction per sample (the Q-value of the action taken). Returns
    ``(loss, grad_predictions)``: a Python float and an array in the dtype of
    ``predictions``. Targets and weights are converted to that dtype first,
    so float64 importance weights do not turn a float32 network into float64.
    """
    dtype = predictions.dtype
    errors = predictions - np.asarray(targets, dtype=dtype)
    if weights is None:
        weights = np.ones_like(errors)
    else:
        weights = np.asarray(weights, dtype=dtype)
    if errors.shape != predictions.shape or weights.shape != predictions.shape:
        raise ValueError(
            f"predictions {predictions.shape}, targets {np.shape(targets)} "
            f"and weights {weights.shape} must have the same shape"
        )
    batch_size = predictions.shape[0]
    absolute_errors = np.abs(errors)
    per_sample = np.where(
        absolute_errors <= delta,
        0.5 * errors * errors,
        delta * (absolute_errors - 0.5 * delta),
    )
    loss = float(np.sum(weights * per_sample)) / batch_size
    grad_predictions = np.clip(errors, -delta, delta) * weights / batch_size
    return loss, grad_predictions.astype(dtype, copy=False)
