"""Statistics for comparing agents trained on several seeds, in numpy.

The data of one variant of a sweep is a table of scores, one row per seed
(one trained agent each) and one column per evaluation game::

    scores[s, g] = the score of seed s's greedy agent in game g

(every seed plays the same games: game g starts from the same random state
for every agent). This module summarises such a table, following Agarwal et
al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical
Precipice", the method of the rliable library.

Point estimates, over all S x G scores together:

- the **mean**;
- the **median**;
- the **interquartile mean** (IQM): sort the n = S x G scores, drop the
  lowest k and the highest k, with k = floor(n / 4), and average the rest.
  It is the mean of the middle half: unlike the mean it ignores a few
  extreme games, unlike the median it uses half of the data. When n is not a
  multiple of 4 the cut is rounded down (k = floor(0.25 n)), so a little
  more than half is kept; this is what ``scipy.stats.trim_mean(x, 0.25)``
  computes, which rliable uses.

The **95% confidence interval** says how much the statistic could move had
we trained other seeds. It comes from a bootstrap over seeds:

1. draw S seeds from the S trained ones, with replacement (a seed may come
   twice, another not at all), and take their whole rows: the G games of a
   seed were played by one agent and are not independent of each other;
2. compute the statistic on those S x G scores;
3. repeat ``RESAMPLES`` = 2000 times; the interval runs from the 2.5th to
   the 97.5th percentile of the 2000 values (numpy's default, linear,
   interpolation between order statistics): the percentile bootstrap.

It is *stratified* as rliable's is: seeds are drawn within each variant
(and within each game, if a comparison spans several games), never mixed
across them. The random generator is seeded with ``BOOTSTRAP_SEED``, so the
same scores always give the same interval.

How far to trust it: with S seeds there are only C(2S-1, S) different
resamples (10 for 3 seeds, 126 for 5), and an interval from 3 seeds is rough.
When two variants' intervals overlap, the data does not show that one is
better; when they do not, the difference is larger than what the seeds
spread would give by chance (roughly, not a formal test).
"""

from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 2021


def interquartile_mean(values):
    """The mean of the middle half of the values (floor(n/4) cut from each end)."""
    return float(_interquartile_means(np.asarray(values, dtype=np.float64).reshape(1, -1))[0])


def _interquartile_means(rows):
    """The IQM of each row of a 2-D array."""
    count = rows.shape[1]
    if count == 0:
        return np.full(rows.shape[0], np.nan)
    cut = count // 4
    return np.sort(rows, axis=1)[:, cut:count - cut].mean(axis=1)


# Each statistic of a batch: a 2-D array, one sample per row -> one value per row.
BATCHED = {
    "mean": lambda rows: rows.mean(axis=1),
    "median": lambda rows: np.median(rows, axis=1),
    "iqm": _interquartile_means,
}
STATISTIC_NAMES = {"mean": "mean", "median": "median", "iqm": "IQM"}


def statistic(name, values):
    """The statistic ``name`` (mean, median or iqm) of all the values together."""
    return float(BATCHED[name](np.asarray(values, dtype=np.float64).reshape(1, -1))[0])


def bootstrap_interval(scores, name, resamples=RESAMPLES, confidence=CONFIDENCE, seed=BOOTSTRAP_SEED):
    """(low, high): the percentile bootstrap interval of statistic ``name`` over the rows (seeds) of ``scores``.

    ``scores`` is S x G (a 1-D array counts as one game per seed). Each
    resample draws S row indices uniformly with replacement and computes the
    statistic on those rows' S x G scores together.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    seeds = scores.shape[0]
    generator = np.random.default_rng(seed)
    chosen = generator.integers(0, seeds, size=(resamples, seeds))
    values = BATCHED[name](scores[chosen].reshape(resamples, -1))
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


@dataclass
class Estimate:
    """One statistic of one variant: its value over all the scores and its interval."""

    value: float
    low: float
    high: float

    def as_dict(self):
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high}


def summarize_scores(scores):
    """``{"mean": Estimate, "median": Estimate, "iqm": Estimate}`` of one S x G table of scores."""
    scores = np.asarray(scores, dtype=np.float64)
    summary = {}
    for name in BATCHED:
        low, high = bootstrap_interval(scores, name)
        summary[name] = Estimate(statistic(name, scores), low, high)
    return summary


def intervals_overlap(first, second):
    """Do two Estimates' intervals share any value?"""
    return first.low <= second.high and second.low <= first.high
