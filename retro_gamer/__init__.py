"""retro-gamer: Deep Q-Network agents for retro-games terminal games, in plain numpy.

One setting is made here, before numpy is first imported: its linear-algebra
library (OpenBLAS) runs on one thread. The matrices of these small networks
(a batch of 64 by a few hundred units) are too small to gain from a second
thread; worse, when two programs share the two cores of a lab machine, the
threads wait for each other and a training step became a hundred times
slower (measured: 35 turns per second instead of 2,000). One thread also
makes every run with the same seed add its numbers in the same order, so it
ends with the same weights. A variable the user has set is left alone.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
