"""The benchmark's results as text tables, a JSON file and a PNG chart."""

from collections.abc import Iterable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SPAN_LABELS = {
    "submit_to_queued": "submit→queued",
    "ruling_to_insurers_notified": "ruling→insurers",
    "ruling_to_sms_sent": "ruling→SMS",
    "submit_to_settled": "submit→settled",
}


def _cell(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return cell == "-"
    return True


def table(headers: list[str], rows: Iterable[list[str]]) -> str:
    """Lay out rows in columns: text to the left, numbers to the right."""
    rows = list(rows)
    widths = [
        max([len(header), *(len(row[i]) for row in rows)])
        for i, header in enumerate(headers)
    ]
    numeric = [all(_numeric(row[i]) for row in rows) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join(
        [line(headers), "  ".join("-" * width for width in widths), *map(line, rows)]
    )


def engines_table(engines: list[dict[str, Any]]) -> str:
    def server_ms(e: dict[str, Any]) -> float | None:
        cpu = e.get("server_cpu_seconds")
        return None if cpu is None else 1000 * cpu / e["count"]

    return table(
        [
            "engine",
            "operation",
            "count",
            "per second",
            "p50 ms",
            "p99 ms",
            "server CPU ms/op",
        ],
        (
            [
                e["engine"],
                e["operation"],
                str(e["count"]),
                f"{e['count'] / e['seconds']:.0f}",
                _cell(e["p50_ms"], 2),
                _cell(e["p99_ms"], 2),
                _cell(server_ms(e), 2),
            ]
            for e in engines
        ),
    )


def platform_table(loads: list[dict[str, Any]]) -> str:
    headers = ["offered/s", "cases", "settled", "errors", "completed/s", "sustained"]
    for label in SPAN_LABELS.values():
        headers += [f"{label} p50", "p95", "p99"]
    rows = []
    for load in loads:
        row = [
            f"{load['rate']:g}",
            str(load["offered"]),
            str(load["settled"]),
            str(sum(load["errors"].values())),
            f"{load['completed_per_second']:.1f}",
            "yes" if load.get("sustained") else "no",
        ]
        for span in SPAN_LABELS:
            values = load["spans_ms"][span]
            row += [_cell(values["p50"]), _cell(values["p95"]), _cell(values["p99"])]
        rows.append(row)
    return table(headers, rows) + "\n(latencies in milliseconds)"


def resources_table(loads: list[dict[str, Any]]) -> str:
    rows = []
    for load in loads:
        settled = load["settled"]
        kinds = [
            ("platform", load["resources"]),
            ("engine", load.get("engine_resources", {})),
            ("load", {"load generator": load["load_generator"]}),
        ]
        for kind, usages in kinds:
            for name, usage in usages.items():
                per_case = 1000 * usage["cpu_seconds"] / settled if settled else None
                rows.append(
                    [
                        f"{load['rate']:g}",
                        name,
                        kind,
                        f"{usage['peak_rss_mb']:.0f}",
                        f"{usage['peak_cpu_percent']:.0f}",
                        f"{usage['cpu_seconds']:.1f}",
                        _cell(per_case),
                    ]
                )
    return table(
        [
            "offered/s",
            "process",
            "kind",
            "peak RSS MiB",
            "peak CPU %",
            "CPU seconds",
            "CPU ms/case",
        ],
        rows,
    )


def cpu_table(loads: list[dict[str, Any]], cores: int) -> str:
    """CPU per settled case, what the cores could carry at that cost, and how busy
    the machine was with the load and with other work.

    The platform's and engines' columns leave out what the processes use when
    idle; "with idle" counts it in.
    """
    rows = []
    for load in loads:
        cpu = load["cpu_per_case"] or {}
        machine = load["machine"]
        rows.append(
            [
                f"{load['rate']:g}",
                _cell(cpu.get("platform_ms")),
                _cell(cpu.get("engines_ms")),
                _cell(cpu.get("total_ms")),
                _cell(cpu.get("gross_total_ms")),
                _cell(cpu.get("cases_per_second_on_cores"), 1),
                _cell(cpu.get("load_generator_ms")),
                _cell(cpu.get("machine_busy_percent")),
                _cell(cpu.get("other_work_percent")),
                f"{machine['load_average_start']:.1f}",
                f"{machine['load_average_peak']:.1f}",
            ]
        )
    return table(
        [
            "offered/s",
            "platform ms",
            "engines ms",
            "together ms",
            "with idle ms",
            f"{cores} cores carry/s",
            "load gen ms",
            "machine busy %",
            "other work %",
            "load avg start",
            "peak",
        ],
        rows,
    )


def errors_lines(loads: list[dict[str, Any]]) -> list[str]:
    lines = []
    for load in loads:
        for reason, count in sorted(load["errors"].items()):
            lines.append(f"  at {load['rate']:g}/s: {count} × {reason}")
    return lines


def _cpu_bars(axes: Any, loads: list[dict[str, Any]]) -> None:
    """Stack the platform's and the engines' CPU per settled case at each rate."""
    measured = [load for load in loads if load.get("cpu_per_case")]
    labels = [f"{load['rate']:g}" for load in measured]
    platform = [load["cpu_per_case"]["platform_ms"] for load in measured]
    engines = [load["cpu_per_case"]["engines_ms"] for load in measured]
    axes.bar(labels, platform, label="platform")
    axes.bar(labels, engines, bottom=platform, label="engines")
    axes.set_xlabel("offered cases/s")
    axes.set_ylabel("ms of CPU per settled case")
    axes.set_title("CPU per case, idle use left out")
    axes.legend()


def write_chart(results: dict[str, Any], path: str) -> None:
    """Draw completed against offered rate, the p99 of each step, and the CPU per
    case, per rate.
    """
    loads = results["platform"]
    rates = [load["rate"] for load in loads]
    figure, (left, right, cpu) = plt.subplots(1, 3, figsize=(17, 4.5))

    left.plot(rates, rates, linestyle="--", color="grey", label="offered")
    left.plot(
        rates,
        [load["completed_per_second"] for load in loads],
        marker="o",
        label="completed",
    )
    temporal = results["summary"]["temporal_empty_workflows_per_second"]
    if temporal:
        left.axhline(
            temporal / 2,
            color="tab:red",
            linestyle=":",
            label="half Temporal's empty-workflow rate",
        )
    left.set_xlabel("offered cases/s")
    left.set_ylabel("cases/s")
    left.set_title("Case rate")
    left.legend()

    for span, label in SPAN_LABELS.items():
        right.plot(
            rates,
            [load["spans_ms"][span]["p99"] or float("nan") for load in loads],
            marker="o",
            label=f"{label} p99",
        )
    right.set_xlabel("offered cases/s")
    right.set_ylabel("ms")
    right.set_yscale("log")
    right.set_title("p99 latency per step")
    right.legend()

    _cpu_bars(cpu, loads)

    machine = results["machine"]
    figure.suptitle(f"{machine['cores']} cores, {machine['started_at']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
