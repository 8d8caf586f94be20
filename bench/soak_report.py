"""A soak run's figures: throughput per minute, step latencies, errors by kind, each
process's memory with the growth verdict, and the printed tables.
"""

from dataclasses import asdict
from typing import Any

from bench import report
from bench.growth import GROWTH_RULE, judge
from bench.load import NOT_SETTLED, SPANS
from bench.run import LOAD_GENERATOR

WINDOW_SECONDS = 60.0
STEP_LABELS = {
    "submit_to_queued": "submit → queued",
    "ruling_to_insurers_notified": "ruling → insurers notified",
    "ruling_to_sms_sent": "ruling → ruling SMS sent",
    "claim_to_settlement_sms": "claim assessed → settlement link SMS",
    "confirmation_to_settled": "confirmation → settled",
    "submit_to_settled": "submit → settled (end to end)",
}
# The load generator keeps every case's times until the run ends, so its memory
# grows with the run by design and is shown but not judged.
UNJUDGED = {LOAD_GENERATOR}


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def throughput(load: dict[str, Any]) -> dict[str, Any]:
    """Count cases started and settled over the run and in each minute from the
    first case offered.

    The run's rate of settled cases spans the first offer to the last settlement.
    """
    origin = load["first_offered_at"]
    cases = load["cases"]
    starts = [case["started"] for case in cases]
    starts += [at for at, _ in load["failed_openings"]]
    settles = [case["settled"] for case in cases if case["settled"] is not None]
    offered_seconds = max(load["last_offered_at"] - origin, 1.0)
    last_settled = max(settles, default=origin)
    windows = []
    end = max([*starts, *settles, origin])
    index = 0
    while origin + index * WINDOW_SECONDS <= end:
        low = origin + index * WINDOW_SECONDS
        high = low + WINDOW_SECONDS
        started = sum(1 for at in starts if low <= at < high)
        settled = sum(1 for at in settles if low <= at < high)
        windows.append(
            {
                "minute": index + 1,
                "started": started,
                "settled": settled,
                "settled_per_second": settled / WINDOW_SECONDS,
            }
        )
        index += 1
    return {
        "started": len(starts),
        "settled": len(settles),
        "started_per_second": len(starts) / offered_seconds,
        "settled_per_second": (
            len(settles) / (last_settled - origin) if last_settled > origin else 0.0
        ),
        "windows": windows,
    }


def error_kind(error: str) -> str:
    """Sort one error of the load into the kinds the soak counts."""
    if error.startswith(NOT_SETTLED):
        return "case not finished within the drain"
    if error.startswith("HTTP ") or ": HTTP " in error:
        return "HTTP error"
    return "failed case"


def errors(load: dict[str, Any]) -> list[dict[str, Any]]:
    """List each kind and detail of error with its count, dead letters included."""
    rows = [
        {"kind": error_kind(error), "detail": error, "count": count}
        for error, count in sorted(load["errors"].items())
    ]
    rows += [
        {"kind": "dead letter", "detail": f"from {topic}", "count": count}
        for topic, count in sorted(load["dead_letters"].items())
    ]
    return rows


def _sample_at(series: list[tuple[float, float]], at: float) -> float | None:
    """Return the first sample at or after ``at`` seconds, or the last one before."""
    later = [mib for t, mib in series if t >= at]
    if later:
        return later[0]
    return series[-1][1] if series else None


def memory(load: dict[str, Any], warm_up_seconds: float) -> dict[str, dict[str, Any]]:
    """Return each process's resident memory at start, after warm-up and at the end,
    and the growth verdict on its PSS from the end of the warm-up to the last offer.

    Times are seconds from the first case offered; "at start" is the first sample,
    taken before the load began. The verdict judges PSS rather than RSS because a
    tree's RSS counts shared pages once per process (``bench.resources``).
    """
    shift = load["sampling_started_at"] - load["first_offered_at"]
    offered_until = load["last_offered_at"] - load["first_offered_at"]
    engines = set(load["engine_names"])
    rows = {}
    for name, raw in load["memory_series"].items():
        series = [(t + shift, mib) for t, mib in raw]
        pss = [(t + shift, mib) for t, mib in load["pss_series"][name]]
        window = [(t, mib) for t, mib in pss if warm_up_seconds <= t <= offered_until]
        verdict = None if name in UNJUDGED else judge(window)
        kind = "engine" if name in engines else "platform"
        in_load = [mib for t, mib in series if t <= offered_until]
        rows[name] = {
            "kind": "load" if name in UNJUDGED else kind,
            "start_mib": series[0][1] if series else None,
            "after_warm_up_mib": _sample_at(series, warm_up_seconds),
            "end_mib": in_load[-1] if in_load else None,
            "max_mib": max((mib for _, mib in series), default=None),
            "pss_after_warm_up_mib": _sample_at(pss, warm_up_seconds),
            "pss_end_mib": window[-1][1] if window else None,
            "verdict": None if verdict is None else asdict(verdict),
            "series": series,
            "pss_series": pss,
        }
    return rows


def analyse(load: dict[str, Any], warm_up_seconds: float) -> dict[str, Any]:
    """Add the throughput, errors, memory and the overall verdict to a load."""
    memory_rows = memory(load, warm_up_seconds)
    error_rows = errors(load)
    growing = sorted(
        name
        for name, row in memory_rows.items()
        if row["verdict"] is not None and row["verdict"]["grows"]
    )
    error_count = sum(row["count"] for row in error_rows)
    return {
        "throughput": throughput(load),
        "errors": error_rows,
        "error_count": error_count,
        "memory": memory_rows,
        "growth_rule": GROWTH_RULE,
        "growing": growing,
        "passed": not growing and error_count == 0,
    }


def throughput_table(figures: dict[str, Any]) -> str:
    rows = [
        [
            str(window["minute"]),
            str(window["started"]),
            str(window["settled"]),
            f"{window['settled_per_second']:.2f}",
        ]
        for window in figures["windows"]
    ]
    rows.append(
        [
            "run",
            str(figures["started"]),
            str(figures["settled"]),
            f"{figures['settled_per_second']:.2f}",
        ]
    )
    table = report.table(["minute", "started", "settled", "settled/s"], rows)
    return (
        f"{table}\nStarted {figures['started_per_second']:.2f} cases/s while "
        "offering; the run's settled/s spans the first offer to the last settlement."
    )


def latency_table(load: dict[str, Any]) -> str:
    rows = []
    for span in SPANS:
        values = load["spans_ms"][span]
        rows.append(
            [
                STEP_LABELS[span],
                _fmt(values["p50"]),
                _fmt(values["p95"]),
                _fmt(values["p99"]),
                _fmt(values["max"]),
            ]
        )
    headers = ["step (settled cases)", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    return report.table(headers, rows)


def errors_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No errors: no HTTP error, failed case, unfinished case or dead letter."
    return report.table(
        ["kind", "detail", "count"],
        ([row["kind"], row["detail"], str(row["count"])] for row in rows),
    )


def memory_table(rows: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, row in sorted(rows.items(), key=lambda item: (item[1]["kind"], item[0])):
        verdict = row["verdict"]
        if verdict is None:
            outcome = "not judged"
        elif verdict["fitted_rise_mib"] is None:
            outcome = f"FAILED: {verdict['reason']}"
        else:
            outcome = "GROWS" if verdict["grows"] else "bounded"
        lines.append(
            [
                name,
                row["kind"],
                _fmt(row["start_mib"]),
                _fmt(row["after_warm_up_mib"]),
                _fmt(row["end_mib"]),
                _fmt(row["max_mib"]),
                _fmt(row["pss_after_warm_up_mib"]),
                _fmt(row["pss_end_mib"]),
                _fmt(verdict and verdict["fitted_rise_mib"], 1),
                _fmt(verdict and verdict["tolerance_mib"], 1),
                outcome,
            ]
        )
    headers = [
        "process",
        "kind",
        "RSS start",
        "after warm-up",
        "end",
        "max",
        "PSS after warm-up",
        "end",
        "PSS fitted rise",
        "tolerance",
        "verdict",
    ]
    note = "(MiB; end is the last sample while cases were offered)"
    return f"{report.table(headers, lines)}\n{note}"


def render(results: dict[str, Any]) -> str:
    """Lay out a soak run's results as text."""
    load = results["load"]
    figures = results["analysis"]
    machine = results["machine"]
    run = results["run"]
    lines = [
        f"Soak: {run['rate']:g} cases/s offered for {run['minutes']:g} min "
        f"(warm-up {run['warm_up_minutes']:g} min, drain up to "
        f"{run['drain_seconds']:g} s, memory sampled every "
        f"{run['sample_seconds']:g} s)",
        f"Machine: {machine['cores']} cores, load average {machine['load_average']}, "
        f"{_fmt(machine['busy_percent'])} % busy, "
        f"{_fmt(machine['other_work_percent'])} % of it other work",
        "",
        "Throughput (cases started and settled, per minute from the first offer)",
        throughput_table(figures["throughput"]),
        "",
        "Latency of each step",
        latency_table(load),
        "",
        "Errors",
        errors_table(figures["errors"]),
        "",
        "Memory of each process tree (with its child processes)",
        memory_table(figures["memory"]),
        figures["growth_rule"],
        "",
    ]
    if figures["growing"]:
        growing = ", ".join(figures["growing"])
        lines.append(f"FAILED: memory grows, or too few samples, in {growing}")
    if figures["error_count"]:
        lines.append(f"FAILED: {figures['error_count']} errors")
    if figures["passed"]:
        lines.append("PASSED: no errors, and every process's memory stays bounded")
    return "\n".join(lines)
