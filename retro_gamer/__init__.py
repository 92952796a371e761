"""retro-gamer: Deep Q-Network agents for retro-games terminal games, in plain numpy."""

__version__ = "0.1.0"
