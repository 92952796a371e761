"""The algorithm: Deep Q-Networks as the papers describe them.

Read in this order:

1. ``loop.py``      the training loop, top to bottom: act, step, remember,
                    learn, sync the target network;
2. ``agent.py``     epsilon-greedy actions, the TD targets (Double DQN), one
                    learning step on a batch, the target network;
3. ``replay.py``    the replay memory, uniform and prioritized;
4. ``sum_tree.py``  the sum tree that makes prioritized sampling O(log n);
5. ``nstep.py``     n-step returns.
"""
