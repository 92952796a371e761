"""What the user watches and measures.

``policy.py`` loads a checkpoint as a greedy policy; ``evaluate.py`` plays
it against random play; ``play.py`` shows it playing in the terminal
(``terminal.py`` draws and reads keys); ``plot.py`` draws learning curves.
"""
