"""Percentiles without interpolation surprises: the value at or above the rank."""

import math


def percentile(values: list[float], percent: float) -> float | None:
    """Return the nearest-rank percentile of ``values``, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(percent / 100 * len(ordered)), 1)
    return ordered[rank - 1]
