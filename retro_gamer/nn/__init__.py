"""The neural network, written from scratch in numpy.

Read the modules in this order:

``layers``          the textbook layers, each forward beside its backward
``network``         the Q-network assembled from them
``loss``            Huber loss: how wrong the Q-values are
``optim``           Adam: how the gradients change the weights
``serialize``       saving and loading arrays without pickle

and, for speed, the layers that compute what a textbook layer computes
while paying only for the occupied cells of a mostly empty board:

``fast``            CodeLinear and CodeConv2d, and which route each fast layer takes
``changed_pixels``  convolutions computed only where a board differs from an empty one
"""

from retro_gamer.nn.fast import CodeConv2d, CodeLinear
from retro_gamer.nn.layers import Conv2d, Flatten, Linear, ReLU, one_hot
from retro_gamer.nn.loss import huber_loss
from retro_gamer.nn.network import QNetwork
from retro_gamer.nn.optim import Adam
from retro_gamer.nn.serialize import load_npz, save_npz

__all__ = [
    "Adam",
    "CodeConv2d",
    "CodeLinear",
    "Conv2d",
    "Flatten",
    "Linear",
    "QNetwork",
    "ReLU",
    "huber_loss",
    "load_npz",
    "one_hot",
    "save_npz",
]
