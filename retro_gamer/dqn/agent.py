"""The DQN agent: how it picks an action, and how it learns from a batch.

Q-learning estimates ``Q(s, a)``: the total discounted reward the agent can
expect after taking action ``a`` in state ``s`` and playing well afterwards.
A good ``Q`` satisfies the Bellman equation::

    Q(s, a) = r + gamma * max_a' Q(s', a')

A Deep Q-Network (Mnih et al. 2015) is a neural network trained to make its
outputs satisfy that equation on transitions ``(s, a, r, s')`` drawn from a
replay memory. This module holds the two networks and the optimizer:

``online``  the network that acts and learns;
``target``  a copy of it, refreshed every ``target_update_freq`` turns, that
            computes the right-hand side. Learning towards a target that
            moves with every step chases its own tail; a frozen copy makes
            the regression target stand still for a while.

A learning step (``learn``)::

    q_taken   = online(s)[a]                                   for each transition
    next_a    = argmax_a' online(s')[a']        (Double DQN, van Hasselt et al. 2016)
                argmax_a' target(s')[a']        (plain DQN)
    targets   = R + gamma**n * (1 - terminal) * target(s')[next_a]
    loss      = mean_i  w_i * huber(q_taken_i - targets_i)

``R`` is the (scaled) sum of the ``n`` rewards that follow ``s`` (n-step
returns, Sutton 1988; Hessel et al. 2018); ``terminal`` is true only when the
game itself ended, so an episode cut short by ``max_turns_per_episode`` still
bootstraps. The ``w_i`` are importance weights from prioritized replay (all 1
with uniform replay). Only the output of the action taken gets a gradient.

Double DQN fixes an overestimation: taking the max over noisy estimates picks
the noise, so plain DQN's targets are biased upwards. Letting one network
choose and the other evaluate removes most of that bias.
"""

import numpy as np

from retro_gamer.nn.loss import huber_loss
from retro_gamer.nn.network import QNetwork
from retro_gamer.nn.optim import Adam


class DQNAgent:
    """An online network, its target copy, and Adam."""

    def __init__(self, layout, num_actions, hidden_sizes, conv_channels, learning_rate,
                 max_grad_norm, double_dqn, rng):
        self.num_actions = num_actions
        self.double_dqn = double_dqn
        self.rng = rng
        network_shape = dict(board_shape=layout.board_shape, num_codes=layout.num_codes,
                             state_size=layout.state_size, num_actions=num_actions,
                             hidden_sizes=hidden_sizes, conv_channels=conv_channels)
        self.online = QNetwork(**network_shape, rng=rng)
        self.target = QNetwork(**network_shape, rng=rng)
        self.target.copy_from(self.online)
        self.optimizer = Adam(self.online.parameters(), learning_rate=learning_rate,
                              max_grad_norm=max_grad_norm or None)

    # --- acting -------------------------------------------------------------

    def greedy_action(self, board, state_values):
        """The action with the highest Q-value; ties broken at random.

        (A freshly initialised network often gives equal values: always
        taking the first would make the untrained agent press one key.)
        """
        q_values = self.online.predict(board[np.newaxis], state_values[np.newaxis])[0]
        best = np.flatnonzero(q_values == q_values.max())
        if len(best) == 1:
            return int(best[0])
        return int(self.rng.choice(best))

    def act(self, board, state_values, epsilon):
        """Epsilon-greedy: a random action with probability epsilon, else the greedy one."""
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.num_actions))
        return self.greedy_action(board, state_values)

    # --- learning -----------------------------------------------------------

    def td_targets(self, batch, gamma, reward_scale):
        """``R + gamma**n * (1 - terminal) * Q_target(s', next_a)`` for every transition."""
        next_q_target = self.target.predict(batch.next_boards, batch.next_state_values)
        if self.double_dqn:
            next_q_online = self.online.predict(batch.next_boards, batch.next_state_values)
            next_actions = next_q_online.argmax(axis=1)
        else:
            next_actions = next_q_target.argmax(axis=1)
        rows = np.arange(len(next_actions))
        next_values = next_q_target[rows, next_actions]
        not_terminal = 1.0 - batch.terminals.astype(np.float32)
        discounts = (np.float32(gamma) ** batch.steps.astype(np.float32)) * not_terminal
        return (batch.rewards * np.float32(reward_scale) + discounts * next_values).astype(np.float32)

    def learn(self, batch, gamma, reward_scale):
        """One gradient step on a batch; returns ``(loss, td_errors)``.

        The TD errors (``q_taken - targets``) become the transitions' new
        priorities in prioritized replay.
        """
        targets = self.td_targets(batch, gamma, reward_scale)
        q_values = self.online.forward(batch.boards, batch.state_values)
        rows = np.arange(len(batch.actions))
        q_taken = q_values[rows, batch.actions]
        loss, grad_taken = huber_loss(q_taken, targets, batch.weights)
        grad_q_values = np.zeros_like(q_values)
        grad_q_values[rows, batch.actions] = grad_taken
        self.online.backward(grad_q_values)
        self.optimizer.step(self.online.gradients())
        return float(loss), q_taken - targets

    def sync_target(self):
        """Copy the online weights into the target network (a copy, never an alias)."""
        self.target.copy_from(self.online)
