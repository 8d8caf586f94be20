"""The summary of a benchmark run: sustained rates, CPU per case, the targets, and
the printed text.
"""

from typing import Any

from bench import report

# A rate is sustained when every offered case settled within the drain time, no
# request failed, and cases completed at no less than this share of the offered rate.
SUSTAINED_SHARE = 0.9
SUSTAINED_DEFINITION = (
    "A rate is sustained when every offered case settled within the drain time, no "
    f"request failed, and cases completed at ≥ {SUSTAINED_SHARE:.0%} of the offered "
    "rate."
)
# Higher rates are skipped after one that settled less than this share of its cases.
SATURATED_SHARE = 0.5
TARGET_QUEUED_P99_MS = 1000
TARGET_NOTIFIED_P99_MS = 500
TARGET_AT_RATE = 50.0


def is_sustained(load: dict[str, Any]) -> bool:
    return bool(
        not load["errors"]
        and load["settled"] == load["offered"]
        and load["completed_per_second"] >= SUSTAINED_SHARE * load["rate"]
    )


def saturated(load: dict[str, Any]) -> bool:
    """Return whether a rate left so many cases unsettled that a higher one is moot."""
    settled: int = load["settled"]
    offered: int = load["offered"]
    return settled < SATURATED_SHARE * offered


def cpu_per_case(
    load: dict[str, Any], cores: int, idle: dict[str, float]
) -> dict[str, float] | None:
    """Return the CPU milliseconds each settled case cost, per kind of process.

    The platform's and the engines' figures are net of what each process uses
    when idle (``idle``, CPU seconds a second), an estimate of the work the cases
    themselves caused. ``cases_per_second_on_cores`` is how many cases a second
    the machine's cores could carry if CPU were the only limit: the cores left
    over by the idle processes divided by the net CPU seconds of one case. The
    load generator, which plays the phones and the officer, is counted apart.
    """
    settled = load["settled"]
    if not settled:
        return None
    seconds: float = load["machine"]["seconds"]

    def net(usages: dict[str, dict[str, float]]) -> dict[str, float]:
        return {
            name: max(u["cpu_seconds"] - idle.get(name, 0.0) * seconds, 0.0)
            for name, u in usages.items()
        }

    by_process = net(load["resources"]) | net(load["engine_resources"])
    platform = sum(net(load["resources"]).values())
    engines = sum(net(load["engine_resources"]).values())
    generator = load["load_generator"]["cpu_seconds"]
    total = platform + engines
    spare_cores = cores - sum(idle.values())
    machine = load["machine"]
    capacity = machine["seconds"] * cores
    busy = machine["busy_cpu_seconds"]
    gross = sum(
        u["cpu_seconds"]
        for usages in (load["resources"], load["engine_resources"])
        for u in usages.values()
    )
    return {
        "platform_ms": 1000 * platform / settled,
        "engines_ms": 1000 * engines / settled,
        "total_ms": 1000 * total / settled,
        "gross_total_ms": 1000 * gross / settled,
        "idle_cores": cores - spare_cores,
        "load_generator_ms": 1000 * generator / settled,
        "cases_per_second_on_cores": spare_cores * settled / total if total else 0.0,
        **{f"{name} ms": 1000 * cpu / settled for name, cpu in by_process.items()},
        "machine_busy_percent": 100 * busy / capacity if capacity else 0.0,
        # Busy time that none of the sampled processes explains: other work.
        "other_work_percent": (
            100 * max(busy - gross - generator, 0.0) / capacity if capacity else 0.0
        ),
    }


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    cores = results["machine"]["cores"]
    loads = results["platform"]
    idle = results.get("idle_cpu", {})
    for load in loads:
        load["sustained"] = is_sustained(load)
        load["cpu_per_case"] = cpu_per_case(load, cores, idle)

    temporal = next((e for e in results["engines"] if e["engine"] == "Temporal"), None)
    temporal_rate = temporal["count"] / temporal["seconds"] if temporal else None
    sustained = [load for load in loads if load["sustained"]]
    best = max(sustained, key=lambda load: load["completed_per_second"], default=None)
    best_rate = best["completed_per_second"] if best else 0.0
    summary: dict[str, Any] = {
        "sustained_definition": SUSTAINED_DEFINITION,
        "temporal_empty_workflows_per_second": temporal_rate,
        "best_sustained_cases_per_second": best_rate,
        "best_sustained_offered_rate": best["rate"] if best else None,
    }
    if temporal_rate:
        summary["ratio_to_temporal"] = best_rate / temporal_rate
        summary["target_half_of_temporal_met"] = best_rate >= temporal_rate / 2
    # CPU per case at the best sustained rate, or at the first rate that settled
    # any case when none was sustained.
    measured = best or next((load for load in loads if load["settled"]), None)
    if measured is not None:
        summary["cpu_per_case_at_rate"] = measured["rate"]
        summary["cpu_per_case"] = measured["cpu_per_case"]
        summary |= _temporal_cost(temporal, measured["cpu_per_case"])
    at_target = next((load for load in loads if load["rate"] == TARGET_AT_RATE), None)
    if at_target:
        queued = at_target["spans_ms"]["submit_to_queued"]["p99"]
        notified = at_target["spans_ms"]["ruling_to_insurers_notified"]["p99"]
        summary["target_queued_p99_met"] = (
            queued is not None and queued < TARGET_QUEUED_P99_MS
        )
        summary["target_notified_p99_met"] = (
            notified is not None and notified < TARGET_NOTIFIED_P99_MS
        )
    return summary


def _temporal_cost(
    temporal: dict[str, Any] | None, cpu: dict[str, float] | None
) -> dict[str, float]:
    """Compare the Temporal server's CPU for one case with that for one empty
    workflow, when both were measured.
    """
    if not temporal or not cpu or not temporal.get("server_cpu_seconds"):
        return {}
    per_case = cpu.get("Temporal ms")
    if not per_case:
        return {}
    per_empty = 1000 * temporal["server_cpu_seconds"] / temporal["count"]
    ratio = per_case / per_empty
    return {
        "temporal_ms_per_empty_workflow": per_empty,
        "temporal_ms_per_case": per_case,
        "empty_workflows_per_case": ratio,
        "temporal_bound_cases_per_second": temporal["count"]
        / temporal["seconds"]
        / ratio,
    }


def met(flag: bool) -> str:
    return "met" if flag else "missed"


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    summary = results["summary"]
    cores = machine["cores"]
    lines = [
        f"Machine: {cores} cores, {machine['platform']}",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
    ]
    if results.get("layout"):
        layout = ", ".join(f"{k} {v}" for k, v in results["layout"].items())
        lines.append(f"Platform layout: {layout}")
    if results["engines"]:
        lines += [
            "",
            "Engines (one client process each, same machine, same run)",
            report.engines_table(results["engines"]),
        ]
    lines += [
        "",
        "Platform (cases through the real APIs; a case counts when it settles)",
        report.platform_table(results["platform"]),
        SUSTAINED_DEFINITION,
        "",
        "Processes at each rate (platform, engines and the load generator; each "
        "with its child processes)",
        report.resources_table(results["platform"]),
        "",
        "CPU per settled case, and the machine while each rate ran",
        report.cpu_table(results["platform"], cores),
        "",
        *_summary_lines(summary, cores),
    ]
    if results["skipped_rates"]:
        skipped = ", ".join(f"{rate:g}" for rate in results["skipped_rates"])
        lines.append(f"Skipped rates (cases/s): {skipped}, after a saturated rate")
    errors = report.errors_lines(results["platform"])
    if errors:
        lines += ["", "Errors:", *errors]
    return "\n".join(lines)


def _summary_lines(summary: dict[str, Any], cores: int) -> list[str]:
    best = summary["best_sustained_cases_per_second"]
    temporal = summary["temporal_empty_workflows_per_second"]
    if temporal:
        lines = [
            f"Best sustained case rate: {best:.1f}/s; Temporal empty workflows: "
            f"{temporal:.1f}/s; ratio {summary['ratio_to_temporal']:.3f} "
            f"(target ≥ 0.5: {met(summary['target_half_of_temporal_met'])})"
        ]
    else:
        lines = [f"Best sustained case rate: {best:.1f}/s; engines not measured"]
    cpu = summary.get("cpu_per_case")
    if cpu:
        lines.append(
            f"At {summary['cpu_per_case_at_rate']:g}/s one case cost "
            f"{cpu['total_ms']:.0f} ms of CPU in the platform and the engines "
            f"together ({cpu['platform_ms']:.0f} ms platform, "
            f"{cpu['engines_ms']:.0f} ms engines, beyond their idle use of "
            f"{cpu['idle_cores']:.2f} cores), so {cores} cores carry at most about "
            f"{cpu['cases_per_second_on_cores']:.1f} cases/s if CPU is the only "
            f"limit and the load generator ({cpu['load_generator_ms']:.0f} ms a "
            "case) runs elsewhere."
        )
    if "empty_workflows_per_case" in summary:
        lines.append(
            f"Temporal's server used {summary['temporal_ms_per_case']:.0f} ms of CPU "
            f"per case and {summary['temporal_ms_per_empty_workflow']:.1f} ms per "
            f"empty workflow: a case costs it as much as "
            f"{summary['empty_workflows_per_case']:.0f} empty workflows, so at its "
            f"empty-workflow rate it would carry about "
            f"{summary['temporal_bound_cases_per_second']:.1f} cases/s."
        )
    if "target_queued_p99_met" in summary:
        lines.append(
            f"At {TARGET_AT_RATE:g}/s: submit→queued p99 < {TARGET_QUEUED_P99_MS} ms "
            f"{met(summary['target_queued_p99_met'])}; "
            f"ruling→insurers p99 < {TARGET_NOTIFIED_P99_MS} ms "
            f"{met(summary['target_notified_p99_met'])}"
        )
    return lines
