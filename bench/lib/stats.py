"""Order statistics of a list of samples."""
import math
import statistics


def median(xs):
    return statistics.median(xs)


def pct(xs, q):
    """The q-quantile, nearest rank (no interpolation)."""
    s = sorted(xs)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def p90(xs):
    return pct(xs, 0.9)


def p99(xs):
    return pct(xs, 0.99)
