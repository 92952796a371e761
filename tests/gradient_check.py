"""Finite-difference gradients, the reference every backward pass is checked against.

    dL/da  ~  (L(a + h) - L(a - h)) / 2h      (central differences, float64: in
                                                float32 the rounding error swamps h)
"""

import numpy as np


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
