"""The game side: a retro-games game as something an agent can play.

It knows nothing of networks. Read in this order:

1. ``loading.py``      find and import a game, read its ``[tool.retro-gamer]``
                       description, and the descriptions we ship for games
                       that have none;
2. ``environment.py``  one game as ``reset()`` / ``step(action)``: the reward
                       is the change in the game's reward key;
3. ``observation.py``  what the agent sees: the board as codes (whole, or a
                       window around the player with the edge marked) and
                       the observed state values;
4. ``view_choice.py``  who the player is (the agent that gets the keys) and
                       which view a new run starts with.

For game writers, ``retro-gamer check``: ``random_play.py`` plays seeded
random episodes and watches them; ``check.py`` turns what it saw into
findings, each with what to do.
"""
