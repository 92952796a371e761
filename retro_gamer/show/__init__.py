"""What the user watches and measures.

- ``policy.py``          a checkpoint loaded as a greedy policy;
- ``evaluate.py``        the policy against random play over many games;
- ``play.py``            the policy playing in the terminal, its Q-values
                         beside the board (``terminal.py`` draws and reads
                         keys; ``agent_view.py`` outlines what the network
                         sees; ``recording.py`` keeps it as an asciicast);
- ``plot.py``            learning curves from training.log, drawn by
                         ``braille_chart.py`` (terminal) or ``svg_chart.py``,
                         on the scales of ``chart_scales.py``;
- ``statistics.py``      mean, median, interquartile mean and bootstrap
                         intervals over seeds, for sweeps
                         (``sweep_evaluate.py``, ``sweep_plot.py``).
"""
