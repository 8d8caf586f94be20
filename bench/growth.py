"""The rule that decides whether a process's memory grows without bound in a soak.

A process fails when both of these hold for its memory samples (PSS, see
``bench.resources.tree_memory``) taken between the end of the warm-up and the
last case offered:

1. the maximum of the second half (by time) exceeds the maximum of the first half
   by more than the tolerance;
2. the least-squares line through all those samples rises by more than the
   tolerance from the first sample's time to the last one's.

The tolerance is the larger of ``TOLERANCE_MIB`` and ``TOLERANCE_SHARE`` of the
first half's maximum. The first condition passes a process that reached its
plateau in the first half, such as a cache filled during warm-up. The second
passes a lone spike late in the run (a garbage collection, a burst of work),
which moves the maximum but hardly the fitted line. Growth smaller than the
tolerance over the run goes unseen, so a longer run finds a smaller leak.
"""

from dataclasses import dataclass

TOLERANCE_MIB = 10.0
TOLERANCE_SHARE = 0.05
# Fewer samples than this after the warm-up give no verdict, which counts as a
# failure: nothing shows that the memory stays bounded.
MIN_SAMPLES = 6

GROWTH_RULE = (
    "Memory grows without bound when, over the samples from the end of the warm-up "
    "to the last case offered, the second half's maximum PSS exceeds the first "
    "half's by more than the tolerance AND the least-squares line through the "
    "samples rises by more than the tolerance; the tolerance is the larger of "
    f"{TOLERANCE_MIB:g} MiB and {TOLERANCE_SHARE:.0%} of the first half's maximum. "
    f"Fewer than {MIN_SAMPLES} samples fail."
)


@dataclass(frozen=True)
class GrowthVerdict:
    """The rule's figures and outcome for one process's samples."""

    samples: int
    first_half_max_mib: float | None
    second_half_max_mib: float | None
    fitted_rise_mib: float | None
    slope_mib_per_hour: float | None
    tolerance_mib: float | None
    grows: bool
    reason: str


def fit_slope(samples: list[tuple[float, float]]) -> float:
    """Return the least-squares slope of (seconds, MiB) samples, in MiB a second."""
    count = len(samples)
    mean_t = sum(t for t, _ in samples) / count
    mean_m = sum(m for _, m in samples) / count
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread


def judge(samples: list[tuple[float, float]]) -> GrowthVerdict:
    """Apply the growth rule to (seconds, MiB) samples of one process tree."""
    ordered = sorted(samples)
    if len(ordered) < MIN_SAMPLES or ordered[0][0] == ordered[-1][0]:
        return GrowthVerdict(
            samples=len(ordered),
            first_half_max_mib=None,
            second_half_max_mib=None,
            fitted_rise_mib=None,
            slope_mib_per_hour=None,
            tolerance_mib=None,
            grows=True,
            reason=f"only {len(ordered)} samples, {MIN_SAMPLES} needed",
        )

    start, end = ordered[0][0], ordered[-1][0]
    middle = (start + end) / 2
    first = max(m for t, m in ordered if t <= middle)
    second = max(m for t, m in ordered if t > middle)
    slope = fit_slope(ordered)
    rise = slope * (end - start)
    tolerance = max(TOLERANCE_MIB, TOLERANCE_SHARE * first)
    halves_grow = second - first > tolerance
    line_rises = rise > tolerance

    if halves_grow and line_rises:
        reason = (
            f"second half's max {second - first:+.1f} MiB over the first's and "
            f"fitted rise {rise:+.1f} MiB, both above {tolerance:.1f} MiB"
        )
    elif halves_grow:
        reason = f"second half higher, but fitted rise {rise:+.1f} MiB is in bounds"
    elif line_rises:
        reason = (
            f"fitted rise {rise:+.1f} MiB, but the second half's max is within "
            f"{tolerance:.1f} MiB of the first's"
        )
    else:
        reason = f"both within {tolerance:.1f} MiB"

    return GrowthVerdict(
        samples=len(ordered),
        first_half_max_mib=first,
        second_half_max_mib=second,
        fitted_rise_mib=rise,
        slope_mib_per_hour=slope * 3600,
        tolerance_mib=tolerance,
        grows=halves_grow and line_rises,
        reason=reason,
    )
