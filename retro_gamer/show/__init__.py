"""What the user watches and measures.

``policy.py`` loads a checkpoint as a greedy policy; ``evaluate.py`` plays
it against random play; ``play.py`` shows it playing in the terminal
(``terminal.py`` draws and reads keys). ``plot.py`` gathers the learning
curves from training.log; ``braille_chart.py`` draws them in the terminal
and ``svg_chart.py`` into an SVG file, both placing values by
``chart_scales.py``.
"""
