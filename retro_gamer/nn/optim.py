"""Adam: how the gradients change the weights.

Plain gradient descent moves every weight by ``learning_rate * g``. Adam
keeps two running averages per weight, of the gradient and of its square,

    m <- beta1 m + (1 - beta1) g          (momentum: the usual direction)
    v <- beta2 v + (1 - beta2) g^2        (the usual size of g, squared)

and moves each weight by about ``learning_rate`` in its usual direction,
whatever the scale of its gradients:

    m_hat = m / (1 - beta1^t)             (bias correction: m and v start at
    v_hat = v / (1 - beta2^t)              zero, which would shrink early steps)
    w    <- w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

``t`` counts the updates and is 1 on the first one. Epsilon sits outside the
square root, only to avoid dividing by zero. On the first update from zero
state, ``m_hat = g`` and ``v_hat = g^2``, so every weight moves by
``learning_rate * g / (|g| + epsilon)``, practically ``learning_rate * sign(g)``.

One more tool the trainer uses, **gradient clipping**: before the update,
if the norm of all gradients together, ``sqrt(sum of g^2 over every
weight)``, exceeds ``max_grad_norm``, every gradient is scaled by
``max_grad_norm / norm``. The direction stays, only an outsized step is
shortened.

The learning rate is the plain attribute ``learning_rate``, the one place
the current rate lives: the training loop multiplies it by
``learning_rate_decay`` after every episode (``Trainer.decay_schedules`` in
dqn/loop.py), and it is saved with the rest of Adam's state.

``Adam.textbook_update`` is those equations, written as they are. Training
uses its speed variant beside it, ``Adam.update_in_blocks``, which computes
the same update (tests/test_nn_optim.py:
``test_update_in_blocks_computes_the_textbook_update`` checks it) about four
times faster on 400k weights; ``Adam(..., textbook=True)`` makes every step
take the textbook one instead.

Everything needed to continue exactly where we stopped (``m``, ``v``, ``t``,
the learning rate, the betas and epsilon) goes in and out as plain arrays
(``state_arrays`` / ``load_state_arrays``), so a resumed run takes the same
next step, bit for bit, as one that never stopped.
"""

import math

import numpy as np

from retro_gamer.nn.serialize import checked_array


class Adam:
    """Adam over a fixed list of parameter arrays, updated in place.

    ``step(gradients)`` takes the gradient arrays in the same order as
    ``parameters`` (for a network: ``network.gradients()``).
    """

    # Entries per block of the speed variant (update_in_blocks): 64k float32
    # entries are 256 kB per array, and the five arrays of a block fit in
    # one core's level-2 cache (2 MB here);
    # smaller blocks spend more time in Python (measured with
    # benchmarks/bench_nn.py: 2.6 ms per step on the CNN's weights, 3.2 ms
    # without blocks).
    BLOCK_SIZE = 1 << 16

    def __init__(
        self,
        parameters,
        learning_rate=1e-3,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        max_grad_norm=None,
        textbook=False,
    ):
        self.parameters = list(parameters)
        if not all(parameter.flags.c_contiguous for parameter in self.parameters):
            # step() updates each parameter through a flat view of it.
            raise ValueError("Adam needs contiguous parameter arrays")
        # Plain Python floats: a numpy float64 or a tomlkit Float here could
        # turn float32 arithmetic into float64.
        self.learning_rate = float(learning_rate)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.epsilon = float(epsilon)
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        self.textbook = textbook
        self.t = 0
        self.m = [np.zeros_like(parameter) for parameter in self.parameters]
        self.v = [np.zeros_like(parameter) for parameter in self.parameters]
        self.scratch = [np.empty(min(parameter.size, self.BLOCK_SIZE), parameter.dtype) for parameter in self.parameters]

    def check_gradients(self, gradients):
        """One gradient per parameter, same shapes (numpy would broadcast a misfit silently)."""
        if len(gradients) != len(self.parameters) or any(
            gradient.shape != parameter.shape for gradient, parameter in zip(gradients, self.parameters)
        ):
            raise ValueError("step() needs one gradient array per parameter, in the same order and shape")

    def clip_gradients(self, gradients):
        """Scale all gradients by max_grad_norm / norm when their norm is larger.

        Returns the norm before clipping: sqrt of the sum of every squared
        gradient entry, as a Python float.
        """
        norm = math.sqrt(sum(float(np.vdot(gradient, gradient)) for gradient in gradients))
        if self.max_grad_norm is not None and norm > self.max_grad_norm:
            scale = self.max_grad_norm / norm
            for gradient in gradients:
                np.multiply(gradient, scale, out=gradient)
        return norm

    def step(self, gradients):
        """One Adam update of every parameter from ``gradients`` (clipped in place).

        Returns the gradient norm before clipping.
        """
        self.check_gradients(gradients)
        norm = self.clip_gradients(gradients)
        self.t += 1
        for parameter, gradient, m, v, scratch in zip(self.parameters, gradients, self.m, self.v, self.scratch):
            if self.textbook:
                self.textbook_update(parameter, gradient, m, v)
            else:
                self.update_in_blocks(parameter, gradient, m, v, scratch)
        return norm

    def textbook_update(self, parameter, gradient, m, v):
        """Adam's update of one parameter array, in place, as the equations say it."""
        m[...] = self.beta1 * m + (1 - self.beta1) * gradient
        v[...] = self.beta2 * v + (1 - self.beta2) * gradient**2
        m_hat = m / (1 - self.beta1**self.t)
        v_hat = v / (1 - self.beta2**self.t)
        parameter -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)

    # -- the speed variant ---------------------------------------------------------

    def update_in_blocks(self, parameter, gradient, m, v, scratch):
        """Computes what ``textbook_update`` computes, faster (up to rounding).

        tests/test_nn_optim.py: ``test_update_in_blocks_computes_the_textbook_update``
        checks it. Two tricks:

        * Every operation writes into an existing array (``out=``), so an
          update makes no temporary arrays.
        * The update goes through the weights in blocks of ``BLOCK_SIZE``:
          all 13 passes of ``update_block`` over one block, then the next
          block. The CNN's 2.1 million weights make 8 MB per array; five
          arrays (w, g, m, v and ``scratch``) are more than the processor's
          cache, and 13 passes over the whole arrays would stream them to
          memory and back 13 times; a block stays in the cache. Each entry
          goes through exactly the same operations as without blocks, so
          the blocks change no bit of the result.

        The bias corrections are folded into two scalars:

            w -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + epsilon)
        """
        step_size = self.learning_rate / (1.0 - self.beta1**self.t)
        inverse_v_correction = 1.0 / math.sqrt(1.0 - self.beta2**self.t)
        # reshape(-1) of a contiguous array is a view: writing a block of
        # it writes the parameter (m, v) itself.
        flat = [array.reshape(-1) for array in (parameter, gradient, m, v)]
        for start in range(0, parameter.size, self.BLOCK_SIZE):
            block = slice(start, start + self.BLOCK_SIZE)
            parameter_block, gradient_block, m_block, v_block = (array[block] for array in flat)
            scratch_block = scratch[: len(parameter_block)]
            self.update_block(parameter_block, gradient_block, m_block, v_block, scratch_block,
                              step_size, inverse_v_correction)

    def update_block(self, parameter, gradient, m, v, scratch, step_size, inverse_v_correction):
        """The update of one block of entries, in place (arrays of the same length)."""
        # m += (1 - beta1) (g - m)   is   m = beta1 m + (1 - beta1) g
        np.subtract(gradient, m, out=scratch)
        np.multiply(scratch, 1.0 - self.beta1, out=scratch)
        np.add(m, scratch, out=m)
        # v = beta2 v + (1 - beta2) g^2
        np.multiply(gradient, gradient, out=scratch)
        np.multiply(scratch, 1.0 - self.beta2, out=scratch)
        np.multiply(v, self.beta2, out=v)
        np.add(v, scratch, out=v)
        # w -= step_size * m / (sqrt(v_hat) + epsilon)
        # (Folding the correction into the constants would save a pass but
        # round differently, and change every trained run.)
        np.sqrt(v, out=scratch)
        np.multiply(scratch, inverse_v_correction, out=scratch)
        np.add(scratch, self.epsilon, out=scratch)
        np.divide(m, scratch, out=scratch)
        np.multiply(scratch, step_size, out=scratch)
        np.subtract(parameter, scratch, out=parameter)

    def state_arrays(self, prefix="adam/"):
        """Everything needed to resume, as name -> array (no Python objects)."""
        arrays = {
            prefix + "t": np.array(self.t, dtype=np.int64),
            prefix + "learning_rate": np.array(self.learning_rate, dtype=np.float64),
            prefix + "beta1": np.array(self.beta1, dtype=np.float64),
            prefix + "beta2": np.array(self.beta2, dtype=np.float64),
            prefix + "epsilon": np.array(self.epsilon, dtype=np.float64),
        }
        for index, (m, v) in enumerate(zip(self.m, self.v)):
            arrays[f"{prefix}m/{index}"] = m.copy()
            arrays[f"{prefix}v/{index}"] = v.copy()
        return arrays

    def load_state_arrays(self, arrays, prefix="adam/"):
        """Restore what ``state_arrays`` saved; other names in ``arrays`` are ignored.

        Raises CheckpointError when an array is missing or has the wrong shape.
        """
        scalars = {}
        for name in ("t", "learning_rate", "beta1", "beta2", "epsilon"):
            scalars[name] = checked_array(arrays, prefix + name, ())
        moments = []
        for index, parameter in enumerate(self.parameters):
            m = checked_array(arrays, f"{prefix}m/{index}", parameter.shape)
            v = checked_array(arrays, f"{prefix}v/{index}", parameter.shape)
            moments.append((m, v))
        # Only now that everything fits, change the optimizer.
        self.t = int(scalars["t"])
        self.learning_rate = float(scalars["learning_rate"])
        self.beta1 = float(scalars["beta1"])
        self.beta2 = float(scalars["beta2"])
        self.epsilon = float(scalars["epsilon"])
        for (m, v), own_m, own_v in zip(moments, self.m, self.v):
            np.copyto(own_m, m)
            np.copyto(own_v, v)

