"""Fast routes: the textbook layers' functions, computed faster on mostly empty boards.

A Snake board has a handful of occupied cells out of 512. The textbook
layers (``layers.py``) multiply by every cell all the same; the layers here
compute the same functions with the same parameters while paying only for
the occupied cells, or for the pixels they can change. Each class opens by
saying which textbook layer it computes and which test checks that it does
(the same values and gradients, up to rounding, on both of its routes).

``CodeLinear``    ``Linear`` on the flattened one-hot board, by adding weight rows
``CodeConv2d``    ``Conv2d`` on the one-hot board, by adding weight columns

and in ``changed_pixels.py``, for the convolutions after the first:

``ChangedPixelsConv2d``   ``Conv2d``, computing only the pixels that differ from a reference sample
``BesideEmptyBoard``      convolutions and ReLUs run beside an empty board, the reference

Where a fast route would be slower (a crowded board, a single board when
choosing an action) a layer takes the textbook route instead. Those choices,
for all four, are made in the first section below, from measured thresholds.
"""

import numpy as np

from retro_gamer.nn.layers import Conv2d, Linear, one_hot

# -- which route: every choice of this module, in one place -------------------------
# The thresholds were measured with benchmarks/bench_nn.py on a 2-core
# machine (batch 64, 16x32 board, 6 codes, channels 16 and 32); the tests
# change them to force a route.

# CodeLinear: the row lookup wins below about 3% occupied cells (a Snake
# board), the dense product above.
LINEAR_LOOKUP_UNTIL = 0.03

# CodeConv2d: the column lookup wins up to about 10% occupied cells. Its
# nine steps cost more in Python than the product of a few boards, so
# batches under CONV_LOOKUP_FROM_BATCH boards (choosing an action: one
# board) take the dense route too.
CONV_LOOKUP_UNTIL = 0.1
CONV_LOOKUP_FROM_BATCH = 4

# ChangedPixelsConv2d: computing only the changed pixels wins until about
# half of the pixels are to be computed (a Snake batch: 15%, three times
# faster).
CHANGED_PIXELS_UNTIL = 0.5

# BesideEmptyBoard: from this batch size on. Measured on Snake boards:
# predict on 4 boards takes 0.66 ms with the empty board, 0.71 ms without;
# on 1 board 0.34 and 0.23 ms.
EMPTY_BOARD_FROM_BATCH = 4


def linear_lookup_pays(codes):
    return np.count_nonzero(codes) <= LINEAR_LOOKUP_UNTIL * codes.size


def conv_lookup_pays(codes):
    return len(codes) >= CONV_LOOKUP_FROM_BATCH and np.count_nonzero(codes) <= CONV_LOOKUP_UNTIL * codes.size


def changed_pixels_pay(pixels_to_compute, all_pixels):
    return pixels_to_compute <= CHANGED_PIXELS_UNTIL * all_pixels


def empty_board_pays(batch_size):
    return batch_size >= EMPTY_BOARD_FROM_BATCH


def check_board_shape(codes, board_shape):
    if codes.shape[1:] != board_shape:
        raise ValueError(f"boards have shape {codes.shape[1:]}, expected {board_shape}")


# -- CodeLinear ------------------------------------------------------------------------


def sum_groups(values, group_ids):
    """Sum the rows of ``values`` that share a group id.

    ``group_ids`` (n,) must be sorted, so each group is a run of equal ids.
    Returns ``(ids, sums)``: each group's id once, and the sum of its rows.
    ``np.add.reduceat`` sums ``values[start_i : start_(i+1)]`` for the given
    starts, all in one call.
    """
    # A run starts at index 0 and wherever an id differs from the one before.
    is_start = np.empty(len(group_ids), dtype=bool)
    is_start[:1] = True
    np.not_equal(group_ids[1:], group_ids[:-1], out=is_start[1:])
    starts = is_start.nonzero()[0]
    return group_ids[starts], np.add.reduceat(values, starts, axis=0)


class CodeLinear(Linear):
    """Computes what ``Linear`` computes on ``one_hot(codes).reshape(batch, -1)``, fed the codes.

    tests/test_nn_fast.py: ``test_code_linear_is_linear_on_the_one_hot_board``
    checks it on both routes (and ``test_code_linear_gradients`` its
    gradients, in float64).

    Write ``onehot`` for the flattened one-hot input: ``onehot[n, (k-1)*h*w
    + c] = 1`` when cell ``c = y*w + x`` of sample ``n`` holds code ``k``,
    and 0 otherwise. Then

        y[n, j] = sum_i onehot[n, i] W[i, j] + b[j]
                = b[j] + sum over occupied cells c of sample n of  W[row(n, c), j]
        with row(n, c) = (codes[n, c] - 1)*h*w + c,

    because every term with ``onehot[n, i] = 0`` vanishes and each cell sets
    at most one ``i``. So the product is a *row lookup*: add up the weight
    rows of the occupied cells. Empty cells (code 0) cost nothing.

    The weight gradient ``dL/dW = onehot^T dL/dy`` is a lookup too: row
    ``row(n, c)`` receives ``dL/dy[n]`` for every occupied cell, and rows of
    cells that were empty in the whole batch get zero. Several samples can
    hit the same row (the same code in the same cell), so the contributions
    are sorted by row and summed per row, not written one by one.

    When more cells are occupied than ``linear_lookup_pays`` allows, the
    layer builds the one-hot array and runs ``Linear`` itself. The input is
    integer codes, so ``backward`` returns None.
    """

    def __init__(self, num_codes, board_shape, out_features, rng, dtype=np.float32):
        height, width = board_shape
        super().__init__(num_codes * height * width, out_features, rng, dtype)
        self.num_codes = num_codes
        self.board_shape = (height, width)
        self.cells = height * width
        # The cache: the one-hot array (dense route) or the occupied cells
        # (lookup route) of the last forward().
        self.one_hot_inputs = None
        self.sample_index = None
        self.weight_rows = None

    def flat_one_hot(self, codes):
        return one_hot(codes, self.num_codes, self.weight.dtype).reshape(len(codes), -1)

    def occupied_rows(self, codes):
        """For every occupied cell of the batch: its sample and its weight row.

        Both arrays come out sorted by sample (then by cell).
        """
        flat_codes = codes.reshape(-1)
        positions = (flat_codes != 0).nonzero()[0]  # nonzero() is much faster on booleans
        sample_index, cell_index = np.divmod(positions, self.cells)
        weight_rows = (flat_codes[positions].astype(np.intp) - 1) * self.cells + cell_index
        if weight_rows.size and weight_rows.max() >= self.in_features:
            raise ValueError(f"board code above num_codes={self.num_codes}")
        return sample_index, weight_rows

    def lookup(self, batch_size, sample_index, weight_rows):
        """y[n] = b + the sum of the weight rows of sample n's occupied cells."""
        outputs = np.zeros((batch_size, self.out_features), dtype=self.weight.dtype)
        samples, row_sums = sum_groups(self.weight[weight_rows], sample_index)
        outputs[samples] = row_sums
        outputs += self.bias
        return outputs

    def predict(self, codes):
        check_board_shape(codes, self.board_shape)
        if not linear_lookup_pays(codes):
            return super().predict(self.flat_one_hot(codes))
        return self.lookup(len(codes), *self.occupied_rows(codes))

    def forward(self, codes):
        check_board_shape(codes, self.board_shape)
        if not linear_lookup_pays(codes):
            self.one_hot_inputs = self.flat_one_hot(codes)
            self.sample_index = self.weight_rows = None
            return super().predict(self.one_hot_inputs)
        self.one_hot_inputs = None
        self.sample_index, self.weight_rows = self.occupied_rows(codes)
        return self.lookup(len(codes), self.sample_index, self.weight_rows)

    def backward(self, grad_outputs):
        np.sum(grad_outputs, axis=0, out=self.grad_bias)
        if self.one_hot_inputs is not None:  # Linear's dL/dW = x^T dL/dy
            np.matmul(self.one_hot_inputs.T, grad_outputs, out=self.grad_weight)
            return None
        order = np.argsort(self.weight_rows, kind="stable")
        rows, row_sums = sum_groups(grad_outputs[self.sample_index[order]], self.weight_rows[order])
        self.grad_weight.fill(0)
        self.grad_weight[rows] = row_sums
        return None


# -- CodeConv2d ------------------------------------------------------------------------


class CodeConv2d(Conv2d):
    """Computes what ``Conv2d(num_codes, ...)`` computes on ``one_hot(codes)``, fed the codes.

    tests/test_nn_fast.py: ``test_code_conv2d_is_conv2d_on_the_one_hot_board``
    checks it on both routes (and ``test_code_conv2d_gradients`` its
    gradients, in float64).

    The input channel ``c`` of a one-hot board is 1 where the cell holds code
    ``c + 1`` and 0 elsewhere, so in

        y[n, o, r, s] = b[o] + sum over c, i, j of K[o, c, i, j] x[n, c, r+i, s+j]

    every term with an empty input vanishes and each cell sets at most one
    channel. Read the other way round: an occupied cell ``(n, u, v)`` holding
    code ``c + 1`` adds the weight column ``K[:, c, i, j]`` to the output
    pixel that sees it at window offset ``(i, j)``, which is
    ``(r, s) = (u + p - i, v + p - j)``, for each of the ``k*k`` offsets
    whose pixel is on the board (``p = k // 2``). So the convolution is a
    *lookup*, like ``CodeLinear``:

        y = b everywhere; then for each offset (i, j):
            y[n, :, u + p - i, v + p - j] += K[:, code - 1, i, j]   for every occupied cell

    One offset is one vectorised add over all the occupied cells of the
    batch. Within one offset two cells never reach the same pixel (a pixel
    sees one cell per offset), so a plain ``+=`` on the indexed pixels is
    right (it would keep only one of repeated indices).

    The weight gradient is a lookup too. ``dL/dK[o, c, i, j]`` sums
    ``dL/dy[n, o, r, s]`` over the pixels whose offset ``(i, j)`` holds code
    ``c + 1``: for each offset, gather ``dL/dy`` at the occupied cells'
    pixels, ``(cells, out_channels)``, and sum it per code, which is a
    product with the cells' one-hot codes ``(cells, num_codes)``:

        dL/dK[:, :, i, j] = gathered^T @ cell_one_hot
        dL/db             = dL/dy summed over the batch and the pixels

    When ``conv_lookup_pays`` says no, the layer runs ``Conv2d`` itself on
    the one-hot board. The input is the board, so ``backward`` returns None.
    """

    def __init__(self, num_codes, board_shape, out_channels, rng, kernel_size=3, dtype=np.float32):
        super().__init__(num_codes, out_channels, rng, kernel_size, dtype, input_gradient=False)
        self.num_codes = num_codes
        self.board_shape = (board_shape[0], board_shape[1])
        # The cache of the lookup route: the occupied cells of the last
        # forward() (the dense route keeps its columns, as Conv2d does).
        self.cells = None

    def occupied_cells(self, codes):
        """(samples, rows, columns, channels) of every occupied cell; channel = code - 1."""
        samples, rows, columns = codes.nonzero()
        channels = codes[samples, rows, columns].astype(np.intp) - 1
        if channels.size and channels.max() >= self.num_codes:
            raise ValueError(f"board code {channels.max() + 1} is above num_codes={self.num_codes}")
        return samples, rows, columns, channels

    def cells_seen_at(self, cells, i, j):
        """The cells seen at window offset (i, j): (samples, output rows, output columns, channels).

        Output pixel ``(u + p - i, v + p - j)`` sees cell ``(u, v)``; cells
        whose pixel would fall off the board are left out.
        """
        samples, rows, columns, channels = cells
        pad = self.kernel_size // 2
        height, width = self.board_shape
        output_rows = rows + (pad - i)
        output_columns = columns + (pad - j)
        on_board = (output_rows >= 0) & (output_rows < height) & (output_columns >= 0) & (output_columns < width)
        return samples[on_board], output_rows[on_board], output_columns[on_board], channels[on_board]

    def lookup(self, batch_size, cells):
        """The bias everywhere, plus each cell's weight column at each offset.

        The outputs are built with one row of channels per pixel, (batch,
        height, width, out_channels), so that each add writes whole rows;
        they are returned as a (batch, out_channels, height, width) view.
        """
        height, width = self.board_shape
        # The bias in every pixel, built as one row per sample (the fastest copy).
        outputs = np.empty((batch_size, height * width * self.out_channels), dtype=self.weight.dtype)
        outputs[...] = np.tile(self.bias, height * width)
        outputs = outputs.reshape(batch_size, height, width, self.out_channels)
        for i in range(self.kernel_size):
            for j in range(self.kernel_size):
                samples, rows, columns, channels = self.cells_seen_at(cells, i, j)
                outputs[samples, rows, columns] += self.weight[:, channels, i, j].T
        return outputs.transpose(0, 3, 1, 2)

    def predict(self, codes):
        check_board_shape(codes, self.board_shape)
        if not conv_lookup_pays(codes):
            return super().predict(one_hot(codes, self.num_codes, self.weight.dtype))
        return self.lookup(len(codes), self.occupied_cells(codes))

    def forward(self, codes):
        check_board_shape(codes, self.board_shape)
        if not conv_lookup_pays(codes):
            self.cells = None
            return super().forward(one_hot(codes, self.num_codes, self.weight.dtype))
        self.columns = None
        self.cells = self.occupied_cells(codes)
        return self.lookup(len(codes), self.cells)

    def backward(self, grad_outputs):
        if self.cells is None:
            return super().backward(grad_outputs)
        np.sum(grad_outputs, axis=(0, 2, 3), out=self.grad_bias)
        codes = np.arange(self.num_codes)
        for i in range(self.kernel_size):
            for j in range(self.kernel_size):
                samples, rows, columns, channels = self.cells_seen_at(self.cells, i, j)
                gathered = grad_outputs[samples, :, rows, columns]  # (cells, out_channels)
                cell_one_hot = (channels[:, np.newaxis] == codes).astype(grad_outputs.dtype)
                self.grad_weight[:, :, i, j] = gathered.T @ cell_one_hot
        return None
