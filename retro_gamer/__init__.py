"""retro-gamer: Deep Q-Network agents for retro-games terminal games, in plain numpy.

How to read this package
========================

The folders are the parts of the architecture; data flows one way, from the
command line to the game, through the algorithm, into the run's files::

    cli.py -> run/ (settings) -> game/ -> dqn/ (uses nn/) -> run/ (checkpoints, log)
                                 show/ reads a run and drives a game

To see how DQN works, read these in order (each answers one question):

1. ``game/environment.py``  How does a game become something an agent plays?
                            ``reset()`` / ``step(action)``; the reward is the
                            change in the game's reward key.
2. ``game/observation.py``  What exactly does the agent see? The board as
                            codes, whole or as a window around the player
                            with the edge marked, and the observed state.
3. ``dqn/loop.py``          The training loop, top to bottom: act, step,
                            remember, learn, copy the target network.
4. ``dqn/agent.py``         Epsilon-greedy actions, the TD target (Double
                            DQN), one learning step, the target network.
5. ``dqn/replay.py``        The replay memory, uniform and prioritized, and
   ``dqn/sum_tree.py``      the sum tree that makes priorities cheap.
6. ``dqn/nstep.py``         n-step returns.
7. ``nn/layers.py``         Linear, Conv2d, ReLU, Flatten: each forward beside
                            its backward. ``nn/fast.py`` holds the speed
                            routes, each checked against a textbook layer.
8. ``nn/network.py``        The Q-network: a plain loop over layers.
9. ``nn/loss.py``,          The Huber loss; Adam and gradient clipping.
   ``nn/optim.py``

The rest is what a real tool needs around the algorithm:

- ``game/loading.py``       find and import a game, read its description;
- ``run/``                  the run folder: the settings table, config.toml,
                            checkpoints, training.log, the ``train`` command
                            around the loop (resuming, Ctrl-C), atomic writes;
- ``show/``                 play in the terminal, record, evaluate, plot;
- ``gym_env.py``            the same game and observation as a Gymnasium
                            environment, for other RL libraries (optional);
- ``cli.py``, ``errors.py`` the commands, and the errors they report.

docs/how-it-works.md walks through the same files with the equations.

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
