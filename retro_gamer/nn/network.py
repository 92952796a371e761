"""The Q-network: from what the agent sees to one value per action.

Input: the board as small integer codes ``(batch, height, width)`` (see
``layers.one_hot`` for what the codes mean) and, optionally, a vector of
extra observed values ``(batch, state_size)`` (for Snake: the direction to
the apple). Output: ``Q(s, a)`` for every action, ``(batch, num_actions)``:
the network's estimate of the discounted reward still to come if the agent
takes action ``a`` now and plays well afterwards.

Two shapes of network:

**MLP** (``conv_channels`` empty). The first hidden layer is a Linear layer
over the flattened one-hot board joined with the state values:

    h1 = relu([onehot(board), state] W1 + b1)
       = relu(onehot(board) W1_board + state W1_state + b1)

The second line is the same product split in two (``W1`` stacked from
``W1_board`` and ``W1_state``), so the one-hot part can be a ``CodeLinear``
row lookup while the state part is an ordinary (bias-free) ``Linear``; the
two outputs are simply added. After that: Linear + ReLU for each further
hidden size, and a final Linear to ``num_actions`` with no activation
(Q-values can be any real number).

**Spatial** (``conv_channels`` e.g. ``[16, 32]``). The one-hot board goes
through 3x3 convolutions, each followed by ReLU, which see neighbourhoods
and share their weights across the board; the feature maps are flattened
and then joined with the state values exactly as above:

    one_hot -> Conv2d -> ReLU -> Conv2d -> ReLU -> Flatten -> [+ state] -> MLP head

The first convolution is a ``CodeConv2d``: the same function, with the same
parameters, as ``Conv2d`` on the one-hot board, fed the codes themselves (a
weight-column lookup per occupied cell, like ``CodeLinear``). The ones after
it compute only the pixels where a board's feature maps differ from an empty
board's: the convolutions and their ReLUs run inside a ``BesideEmptyBoard``
(see ``changed_pixels.py``), which is one layer of the board path.

So the network is three lists of layers, each run by a plain loop:

    board_layers   board codes -> the first hidden layer's board part
    state_layer    state values -> its state part (added to the board part)
    head_layers    ReLU, Linear, ReLU, Linear ... -> Q-values

``board_shape=None`` gives a network that sees only the state values;
``state_size=0`` one that sees only the board.

The layer producing the Q-values starts with weights ten times smaller than
He initialisation would give, so the first Q-estimates are close to zero
and the first targets (mostly just rewards) are not swamped by noise.

``forward`` keeps what ``backward`` needs; ``predict`` does not (used by the
target network, for choosing actions and for evaluation), so a prediction
between ``forward`` and ``backward`` changes nothing.
"""

import numpy as np

from retro_gamer.nn.changed_pixels import BesideEmptyBoard, ChangedPixelsConv2d
from retro_gamer.nn.fast import CodeConv2d, CodeLinear
from retro_gamer.nn.layers import Flatten, Linear, ReLU
from retro_gamer.nn.serialize import checked_array

OUTPUT_WEIGHT_SCALE = 0.1


def run_layers(layers, inputs, training):
    """Each layer in order: ``forward`` when training (keeps the caches), else ``predict``."""
    for layer in layers:
        inputs = layer.forward(inputs) if training else layer.predict(inputs)
    return inputs


def backward_layers(layers, grad_outputs):
    """Each layer's ``backward`` in reverse order; returns the first layer's ``grad_inputs``."""
    for layer in reversed(layers):
        grad_outputs = layer.backward(grad_outputs)
    return grad_outputs


def shape_text(shape):
    """(6, 16, 32) -> '6x16x32'."""
    return "x".join(str(size) for size in shape)


class QNetwork:
    """Board codes + state values -> Q-values; see the module docstring."""

    def __init__(
        self,
        board_shape,
        num_codes,
        state_size,
        num_actions,
        hidden_sizes,
        conv_channels=None,
        rng=None,
        dtype=np.float32,
    ):
        if rng is None:
            raise ValueError("QNetwork needs rng, a numpy.random.Generator, for its initial weights")
        if board_shape is None and state_size == 0:
            raise ValueError("QNetwork needs a board, state values, or both")
        if board_shape is None and conv_channels:
            raise ValueError("conv_channels need a board to convolve")
        self.board_shape = None if board_shape is None else (int(board_shape[0]), int(board_shape[1]))
        self.num_codes = int(num_codes)
        self.state_size = int(state_size)
        self.num_actions = int(num_actions)
        self.hidden_sizes = [int(size) for size in hidden_sizes]
        self.conv_channels = [int(channels) for channels in conv_channels or []]
        self.dtype = np.dtype(dtype)
        # (name, kind, layer, input text, output text) for every layer in
        # order: for describe() and for naming the parameters.
        self.layout = []

        self.board_layers = []
        self.convolutions = None  # the BesideEmptyBoard of a spatial network
        self.board_layer = None  # the last of board_layers
        self.state_layer = None
        self.head_layers = []
        layer_sizes = self.hidden_sizes + [self.num_actions]
        if self.board_shape is not None:
            self.build_board_path(layer_sizes[0], rng)
        if self.state_size > 0:
            self.state_layer = Linear(
                self.state_size, layer_sizes[0], rng, self.dtype, bias=self.board_layer is None
            )
            joined = " (added)" if self.board_layer is not None else ""
            state_text = f"state {self.state_size}"
            output_text = f"{layer_sizes[0]}{joined}"
            self.layout.append(("dense1.state", "Linear", self.state_layer, state_text, output_text))
        for index in range(1, len(layer_sizes)):
            in_size, out_size = layer_sizes[index - 1], layer_sizes[index]
            relu = ReLU()
            linear = Linear(in_size, out_size, rng, self.dtype)
            self.head_layers += [relu, linear]
            self.layout.append((f"relu{index}", "ReLU", relu, str(in_size), str(in_size)))
            self.layout.append((f"dense{index + 1}", "Linear", linear, str(in_size), str(out_size)))
        for layer in self.output_layers():
            np.multiply(layer.weight, OUTPUT_WEIGHT_SCALE, out=layer.weight)

        self.names = []
        self.parameter_list = []
        self.gradient_list = []
        for layer_name, _, layer, _, _ in self.layout:
            gradients = layer.gradients()
            for name, parameter in layer.parameters().items():
                self.names.append(f"{layer_name}.{name}")
                self.parameter_list.append(parameter)
                self.gradient_list.append(gradients[name])

    def build_board_path(self, first_size, rng):
        """The layers from board codes to the first hidden layer's board part."""
        height, width = self.board_shape
        if not self.conv_channels:
            self.board_layer = CodeLinear(self.num_codes, self.board_shape, first_size, rng, self.dtype)
            self.board_layers = [self.board_layer]
            board_text = f"one-hot {self.num_codes}x{height}x{width}"
            self.layout.append(("dense1.board", "CodeLinear", self.board_layer, board_text, str(first_size)))
            return
        conv_layers = []
        in_channels = self.num_codes
        for index, out_channels in enumerate(self.conv_channels, start=1):
            if index == 1:
                # Reads the board codes directly, as CodeLinear does (same parameters as Conv2d).
                conv = CodeConv2d(self.num_codes, self.board_shape, out_channels, rng, dtype=self.dtype)
            else:
                conv = ChangedPixelsConv2d(in_channels, out_channels, rng, dtype=self.dtype)
            relu = ReLU()
            conv_layers += [conv, relu]
            in_text = shape_text((in_channels, height, width))
            out_text = shape_text((out_channels, height, width))
            self.layout.append((f"conv{index}", "Conv2d 3x3", conv, in_text, out_text))
            self.layout.append((f"conv{index}.relu", "ReLU", relu, out_text, out_text))
            in_channels = out_channels
        self.convolutions = BesideEmptyBoard(conv_layers)
        features = in_channels * height * width
        flatten = Flatten()
        maps_text = shape_text((in_channels, height, width))
        self.layout.append(("flatten", "Flatten", flatten, maps_text, str(features)))
        self.board_layer = Linear(features, first_size, rng, self.dtype)
        self.layout.append(("dense1.board", "Linear", self.board_layer, str(features), str(first_size)))
        self.board_layers = [self.convolutions, flatten, self.board_layer]

    def output_layers(self):
        """The layer(s) whose outputs are the Q-values."""
        if self.head_layers:
            return [self.head_layers[-1]]
        return [layer for layer in (self.board_layer, self.state_layer) if layer is not None]

    # -- running the network -------------------------------------------------

    def check_inputs(self, boards, state_values):
        """Raise ValueError unless the inputs fit the network (a bug in the caller)."""
        if self.board_shape is not None and (boards.ndim != 3 or boards.shape[1:] != self.board_shape):
            expected = (None,) + self.board_shape
            raise ValueError(f"boards have shape {boards.shape}, expected {expected}")
        if self.state_size > 0 and (state_values.ndim != 2 or state_values.shape[1] != self.state_size):
            expected = (None, self.state_size)
            raise ValueError(f"state_values have shape {state_values.shape}, expected {expected}")
        if self.board_shape is not None and self.state_size > 0 and len(boards) != len(state_values):
            raise ValueError(
                f"{len(boards)} boards but {len(state_values)} rows of state_values (batch sizes differ)"
            )

    def run(self, boards, state_values, training):
        """The forward pass; ``training`` says whether the layers keep their caches."""
        if self.state_size > 0:
            # float64 state values would turn the whole network float64.
            state_values = np.asarray(state_values, dtype=self.dtype)
        self.check_inputs(boards, state_values)
        hidden = None
        if self.board_layers:
            hidden = run_layers(self.board_layers, boards, training)
        if self.state_layer is not None:
            state_part = run_layers([self.state_layer], state_values, training)
            if hidden is None:
                hidden = state_part
            else:
                hidden += state_part
        return run_layers(self.head_layers, hidden, training)

    def forward(self, boards, state_values):
        """Q-values ``(batch, num_actions)``; keeps what ``backward`` needs.

        ``boards``: uint8 codes ``(batch, height, width)`` (ignored without a
        board); ``state_values``: ``(batch, state_size)`` (ignored when
        state_size is 0).
        """
        return self.run(boards, state_values, training=True)

    def predict(self, boards, state_values):
        """Q-values like ``forward``, leaving every cache untouched."""
        return self.run(boards, state_values, training=False)

    def backward(self, grad_q_values):
        """Fill every parameter's gradient from dL/dQ ``(batch, num_actions)``.

        Goes through the layers of the last ``forward`` in reverse. The first
        hidden layer's gradient is shared: it is both the board part's and
        the state part's output gradient, because their outputs were added.
        """
        grad_hidden = backward_layers(self.head_layers, grad_q_values.astype(self.dtype, copy=False))
        if self.state_layer is not None:
            self.state_layer.backward(grad_hidden)
        backward_layers(self.board_layers, grad_hidden)

    # -- parameters ------------------------------------------------------------

    def parameters(self):
        """Every parameter array, in a fixed order (the same as ``parameter_names``)."""
        return list(self.parameter_list)

    def gradients(self):
        """The gradient arrays, same order as ``parameters``; filled in place by ``backward``."""
        return list(self.gradient_list)

    def parameter_names(self):
        """Names like ``dense1.board.weight``, same order as ``parameters``."""
        return list(self.names)

    def parameter_count(self):
        return sum(parameter.size for parameter in self.parameter_list)

    def copy_from(self, other):
        """Make this network's weights equal to ``other``'s (copied, never shared)."""
        if other.names != self.names or any(
            mine.shape != theirs.shape for mine, theirs in zip(self.parameter_list, other.parameter_list)
        ):
            raise ValueError("copy_from needs a network of the same shape")
        for mine, theirs in zip(self.parameter_list, other.parameter_list):
            np.copyto(mine, theirs)

    def state_arrays(self, prefix="net/"):
        """name -> copy of each parameter, e.g. ``net/dense1.board.weight``."""
        return {prefix + name: parameter.copy() for name, parameter in zip(self.names, self.parameter_list)}

    def load_state_arrays(self, arrays, prefix="net/"):
        """Copy saved parameters in; other names in ``arrays`` are ignored.

        Raises CheckpointError naming the first missing or misshapen array;
        the network is left unchanged in that case.
        """
        saved = [
            checked_array(arrays, prefix + name, parameter.shape)
            for name, parameter in zip(self.names, self.parameter_list)
        ]
        for parameter, array in zip(self.parameter_list, saved):
            np.copyto(parameter, array)

    def describe(self):
        """Human-readable lines, layer by layer, with shapes and parameter counts."""
        inputs = []
        if self.board_shape is not None:
            inputs.append(f"board {self.board_shape[0]}x{self.board_shape[1]} ({self.num_codes} codes)")
        if self.state_size > 0:
            inputs.append(f"{self.state_size} state values")
        kind = "spatial (convolutions + MLP)" if self.convolutions is not None else "MLP"
        lines = [f"Q-network, {kind}: {' + '.join(inputs)} -> {self.num_actions} Q-values"]
        for name, kind, layer, input_text, output_text in self.layout:
            count = sum(parameter.size for parameter in layer.parameters().values())
            count_text = f"{count:,} parameters" if count else ""
            shapes_text = f"{input_text} -> {output_text}"
            lines.append(f"  {name:<14}{kind:<12}{shapes_text:<34}{count_text}".rstrip())
        lines.append(f"  total {self.parameter_count():,} parameters")
        return lines
