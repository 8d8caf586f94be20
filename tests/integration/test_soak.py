"""A short soak against the real stack: the report's structure and the growth
verdict on the memory it sampled. How fast or how large is not checked.
"""

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from bench.growth import MIN_SAMPLES, judge
from bench.load import SPANS
from bench.soak import exit_status, parse_args, soak, write
from bench.soak_report import UNJUDGED

PLATFORM = {"intake", "liability", "insurance", "notify", "worker", "evidence"}
ENGINES = {"Kafka", "PostgreSQL", "S3 (SeaweedFS)", "Temporal"}


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_short_soak_reports_and_judges_memory(tmp_path: Path) -> None:
    args = parse_args(
        [
            "--minutes",
            "1",
            "--rate",
            "0.5",
            "--warm-up-minutes",
            "0.1",
            "--sample-seconds",
            "1",
            "--progress-seconds",
            "10",
            "--drain-seconds",
            "120",
        ]
    )

    results = soak(args)
    stem = write(results, tmp_path)

    load = results["load"]
    analysis = results["analysis"]
    # Thirty cases offered at 0.5 a second for 60 s, each through the
    # settlement step, since the soak's insurers assess and wait for the party.
    assert load["offered"] == 30
    assert load["errors"] == {}
    assert load["dead_letters"] == {}
    assert analysis["errors"] == []
    assert analysis["error_count"] == 0
    throughput = analysis["throughput"]
    assert throughput["started"] == 30
    assert throughput["settled"] == 30
    assert sum(w["started"] for w in throughput["windows"]) == 30
    assert sum(w["settled"] for w in throughput["windows"]) == 30
    for span in SPANS:
        values = load["spans_ms"][span]
        assert values["p50"] is not None, span
        assert 0 < values["p50"] <= values["p95"] <= values["p99"], span
        assert values["p99"] <= values["max"], span

    memory = analysis["memory"]
    assert set(memory) >= PLATFORM | ENGINES
    for name in PLATFORM | ENGINES:
        row = memory[name]
        assert row["start_mib"] > 0, name
        assert row["after_warm_up_mib"] > 0, name
        assert row["end_mib"] > 0, name
        assert row["max_mib"] >= row["end_mib"], name
        assert row["verdict"] is not None, name
        assert row["verdict"]["samples"] >= MIN_SAMPLES, name
    assert {row["kind"] for name, row in memory.items() if name in ENGINES} == {
        "engine"
    }

    # The stored verdicts are the rule applied to the samples after the warm-up,
    # and the run passes only without errors and growing memory.
    warm_up = args.warm_up_minutes * 60
    offered_until = load["last_offered_at"] - load["first_offered_at"]
    for name, row in memory.items():
        if name in UNJUDGED:
            assert row["verdict"] is None
            continue
        window = [
            (t, mib) for t, mib in row["pss_series"] if warm_up <= t <= offered_until
        ]
        assert row["verdict"] == asdict(judge(window)), name
    growing = {
        name for name, row in memory.items() if (row["verdict"] or {}).get("grows")
    }
    assert set(analysis["growing"]) == growing
    assert analysis["passed"] == (not growing)
    assert exit_status(results) == (0 if analysis["passed"] else 1)

    # A leak of twice the tolerance added to real samples is caught.
    notify = [
        (t, mib)
        for t, mib in memory["notify"]["pss_series"]
        if warm_up <= t <= offered_until
    ]
    tolerance = memory["notify"]["verdict"]["tolerance_mib"]
    start, end = notify[0][0], notify[-1][0]
    leaking = [
        (t, mib + 2 * tolerance * (t - start) / (end - start)) for t, mib in notify
    ]
    assert judge(leaking).grows

    written = json.loads(stem.with_suffix(".json").read_text())
    assert written["analysis"]["growth_rule"] == analysis["growth_rule"]
    text = stem.with_suffix(".txt").read_text()
    for heading in ("Throughput", "Latency of each step", "Errors", "Memory"):
        assert heading in text
    assert "confirmation → settled" in text
