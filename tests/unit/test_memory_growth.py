"""The soak's memory growth rule on synthetic samples: (seconds, MiB) pairs."""

import math
from collections.abc import Callable

from bench.growth import MIN_SAMPLES, TOLERANCE_MIB, fit_slope, judge

MINUTES = 8
INTERVAL = 10.0


def samples(memory_at: Callable[[float], float]) -> list[tuple[float, float]]:
    """Sample ``memory_at(t)`` every 10 s for eight minutes."""
    count = int(MINUTES * 60 / INTERVAL) + 1
    return [(i * INTERVAL, memory_at(i * INTERVAL)) for i in range(count)]


def test_steady_leak_grows() -> None:
    # 1 MiB a case at 0.1 case/s: 48 MiB over eight minutes.
    verdict = judge(samples(lambda t: 150 + 0.1 * t))

    assert verdict.grows
    assert verdict.fitted_rise_mib is not None
    assert math.isclose(verdict.fitted_rise_mib, 48.0)
    assert verdict.slope_mib_per_hour is not None
    assert math.isclose(verdict.slope_mib_per_hour, 360.0)


def test_flat_memory_is_bounded() -> None:
    verdict = judge(samples(lambda t: 200.0))

    assert not verdict.grows
    assert verdict.fitted_rise_mib == 0.0
    assert verdict.first_half_max_mib == verdict.second_half_max_mib == 200.0


def test_plateau_in_first_half_is_bounded() -> None:
    # A cache that fills within two minutes and then stays full.
    verdict = judge(samples(lambda t: 150 + 60 * min(t / 120, 1.0)))

    assert not verdict.grows
    assert verdict.second_half_max_mib == verdict.first_half_max_mib


def test_garbage_collection_sawtooth_is_bounded() -> None:
    # Climbs 30 MiB and drops back every minute, as a collected heap does.
    verdict = judge(samples(lambda t: 300 + 30 * ((t % 60) / 60)))

    assert not verdict.grows


def test_lone_late_spike_is_bounded() -> None:
    series = samples(lambda t: 180.0)
    series[-3] = (series[-3][0], 260.0)

    verdict = judge(series)

    assert verdict.second_half_max_mib == 260.0
    assert verdict.fitted_rise_mib is not None
    assert verdict.fitted_rise_mib < TOLERANCE_MIB
    assert not verdict.grows


def test_step_that_stays_up_grows() -> None:
    verdict = judge(samples(lambda t: 180.0 if t < 300 else 240.0))

    assert verdict.grows


def test_growth_under_tolerance_is_bounded() -> None:
    verdict = judge(samples(lambda t: 100 + (TOLERANCE_MIB / 2) * t / 480))

    assert not verdict.grows


def test_tolerance_scales_with_large_processes() -> None:
    # The first half peaks at 1020 MiB, so the tolerance is 5 % of it, 51 MiB,
    # and a 40 MiB rise is within it.
    verdict = judge(samples(lambda t: 1000 + 40 * t / 480))

    assert verdict.tolerance_mib is not None
    assert math.isclose(verdict.tolerance_mib, 51.0)
    assert not verdict.grows


def test_too_few_samples_fail() -> None:
    verdict = judge([(i * 10.0, 100.0) for i in range(MIN_SAMPLES - 1)])

    assert verdict.grows
    assert verdict.fitted_rise_mib is None
    assert "samples" in verdict.reason


def test_samples_at_one_time_fail() -> None:
    verdict = judge([(5.0, 100.0)] * (MIN_SAMPLES + 2))

    assert verdict.grows


def test_unsorted_samples_are_judged_in_time_order() -> None:
    ordered = samples(lambda t: 150 + 0.1 * t)

    assert judge(list(reversed(ordered))) == judge(ordered)


def test_fit_slope_of_noisy_line() -> None:
    noise = [0.5, -0.5, 0.25, -0.25]
    points = [(5.0 * i, 10.0 * i + noise[i % 4]) for i in range(20)]

    assert math.isclose(fit_slope(points), 2.0, abs_tol=0.02)
