"""The sweep statistics against computations made another way, on fixed data.

The independent computations below use plain Python (``sorted``, sums, a
hand-written percentile with linear interpolation), not numpy's sort,
median or percentile, so a mistake in ``statistics.py`` is not repeated here.
"""

import math
import random

import numpy as np
import pytest

from retro_gamer.show import statistics


def hand_iqm(values):
    ordered = sorted(float(value) for value in values)
    cut = math.floor(0.25 * len(ordered))
    kept = ordered[cut:len(ordered) - cut]
    return sum(kept) / len(kept)


def hand_median(values):
    ordered = sorted(float(value) for value in values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def hand_percentile(values, percent):
    """Linear interpolation between the order statistics at rank (n - 1) * p / 100."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * percent / 100
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def hand_interval(scores, statistic, draws):
    """The percentile bootstrap over rows, one resample per row of ``draws`` (row indices)."""
    values = []
    for chosen in draws:
        pooled = [value for row in chosen for value in scores[row]]
        values.append(statistic(pooled))
    return hand_percentile(values, 2.5), hand_percentile(values, 97.5)


def test_iqm_on_fixed_data_by_hand():
    # 10 values: floor(2.5) = 2 cut each side; the middle six are 2..7.
    assert statistics.interquartile_mean([100, 1, 2, 3, 4, 5, 6, 7, 8, -50]) == 4.5
    # 8 values: 2 cut each side, the middle four 3, 4, 5, 6.
    assert statistics.interquartile_mean([8, 7, 6, 5, 4, 3, 2, 1]) == 4.5
    # 7 values: floor(1.75) = 1 cut each side (scipy's trim_mean rounds the cut down too).
    assert statistics.interquartile_mean([0, 10, 20, 30, 40, 50, 1000]) == pytest.approx(30.0)
    # 3 values: nothing cut, the plain mean.
    assert statistics.interquartile_mean([1, 2, 9]) == 4.0
    # A table counts all its values together.
    assert statistics.interquartile_mean([[1, 2, 3, 4], [5, 6, 7, 8]]) == 4.5


@pytest.mark.parametrize("count", range(1, 23))
def test_iqm_matches_the_hand_computation_for_every_size(count):
    values = np.random.default_rng(count).normal(size=count) * 10
    assert statistics.interquartile_mean(values) == pytest.approx(hand_iqm(values), rel=1e-12)


def test_iqm_matches_scipy_when_it_is_installed():
    scipy_stats = pytest.importorskip("scipy.stats")
    for count in range(1, 40):
        values = np.random.default_rng(count).exponential(size=count)
        assert statistics.interquartile_mean(values) == pytest.approx(
            scipy_stats.trim_mean(values, 0.25), rel=1e-12)


SCORES = np.array([  # 3 seeds x 5 games, a weak seed 1
    [12.0, 15.0, 9.0, 30.0, 14.0],
    [2.0, 0.0, 3.0, 1.0, 50.0],
    [11.0, 18.0, 13.0, 12.0, 16.0],
])


@pytest.mark.parametrize("name, hand", [("mean", lambda v: sum(v) / len(v)), ("median", hand_median),
                                        ("iqm", hand_iqm)])
def test_bootstrap_interval_matches_the_hand_computation(name, hand):
    draws = np.random.default_rng(statistics.BOOTSTRAP_SEED).integers(
        0, 3, size=(statistics.RESAMPLES, 3)).tolist()
    expected = hand_interval(SCORES.tolist(), hand, draws)
    assert statistics.bootstrap_interval(SCORES, name) == pytest.approx(expected, rel=1e-12)
    assert statistics.statistic(name, SCORES) == pytest.approx(hand(SCORES.ravel().tolist()))


def test_the_bootstrap_draws_whole_seeds():
    # Every seed scores the same in all its games: any resample's mean is a mean of seed means,
    # so both ends of the interval lie between the lowest and the highest seed mean.
    scores = np.repeat([[1.0], [2.0], [6.0]], 50, axis=1)
    low, high = statistics.bootstrap_interval(scores, "mean")
    assert 1.0 <= low < high <= 6.0
    # Resampling games instead of seeds would give a very narrow interval around 3; this one is wide.
    assert high - low > 2.0


def test_identical_seeds_give_a_point_interval_and_the_same_seed_gives_the_same_interval():
    scores = np.tile([3.0, 5.0, 7.0], (4, 1))
    assert statistics.bootstrap_interval(scores, "iqm") == (5.0, 5.0)
    noisy = np.random.default_rng(5).normal(size=(5, 20))
    assert statistics.bootstrap_interval(noisy, "iqm") == statistics.bootstrap_interval(noisy, "iqm")


def test_the_interval_covers_the_true_mean_about_95_percent_of_the_time():
    """Coverage, by simulation: seeds whose true mean is 0; about 95% of intervals contain 0.

    With 10 seeds the percentile bootstrap under-covers a little (its known bias for small
    samples), so the bounds are loose; an interval that ignored the seeds would fail badly.
    """
    generator = random.Random(3)
    covered = 0
    trials = 200
    for trial in range(trials):
        seed_effects = [generator.gauss(0, 1) for _ in range(10)]
        scores = np.array([[effect + generator.gauss(0, 1) for _ in range(8)] for effect in seed_effects])
        low, high = statistics.bootstrap_interval(scores, "mean", resamples=500, seed=trial)
        covered += low <= 0.0 <= high
    assert 0.82 <= covered / trials <= 0.99


def test_overlap():
    first = statistics.Estimate(1.0, 0.5, 1.5)
    assert statistics.intervals_overlap(first, statistics.Estimate(2.0, 1.4, 3.0))
    assert not statistics.intervals_overlap(first, statistics.Estimate(2.0, 1.6, 3.0))
