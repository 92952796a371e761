"""n-step returns: let a reward reach back n turns in one learning step.

One-step Q-learning learns from ``(s_t, a_t, r_t, s_t+1)``: a reward earned
now only reaches the state before it, and needs many learning steps to travel
further back. An n-step transition sums the next ``n`` rewards first::

    R_t = r_t + gamma * r_t+1 + ... + gamma**(n-1) * r_t+n-1

and stores ``(s_t, a_t, R_t, s_t+n)``; its target bootstraps with
``gamma**n * max Q(s_t+n)``. (Sutton 1988; one of Rainbow's ingredients,
Hessel et al. 2018.) When the episode ends before ``n`` more turns, the
remaining transitions sum fewer rewards and say so in ``steps``.

``NStepWindow`` keeps the last ``n`` turns of the current episode and hands
finished transitions to the replay memory.
"""

from collections import deque


class NStepWindow:
    def __init__(self, n_step, gamma, memory):
        self.n_step = n_step
        self.gamma = gamma
        self.memory = memory
        self.turns = deque()  # (board, state_values, action, reward) of recent turns

    def add(self, board, state_values, action, reward, next_board, next_state_values, game_over):
        """Record one turn; store every transition whose n rewards are now known.

        ``game_over`` is true only when the game itself ended. Call
        ``end_episode`` when the episode stops for any reason.
        """
        self.turns.append((board, state_values, action, reward))
        if game_over:
            self._store_all(next_board, next_state_values, terminal=True)
        elif len(self.turns) == self.n_step:
            self._store_oldest(next_board, next_state_values, terminal=False)

    def end_episode(self, last_board, last_state_values):
        """An episode cut short (not a game over): store what is left, bootstrapping."""
        self._store_all(last_board, last_state_values, terminal=False)

    def _store_all(self, next_board, next_state_values, terminal):
        while self.turns:
            self._store_oldest(next_board, next_state_values, terminal)

    def _store_oldest(self, next_board, next_state_values, terminal):
        discounted_return = 0.0
        for age, (_, _, _, reward) in enumerate(self.turns):
            discounted_return += (self.gamma ** age) * reward
        board, state_values, action, _ = self.turns.popleft()
        steps = len(self.turns) + 1
        self.memory.push(board, state_values, action, discounted_return, next_board,
                         next_state_values, terminal, steps)
