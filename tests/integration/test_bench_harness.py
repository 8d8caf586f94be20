"""The benchmark's harness works end to end on a small scale; speed is not checked."""

import asyncio
import json
from pathlib import Path

from bench.engines import EngineSizes
from bench.load import SETTLEMENT_STEP_SPANS
from bench.run import engine_part, finish, run_load
from common.settings import PlatformSettings
from tests.support.platform import PlatformProcesses

SMALL = EngineSizes(
    workflows=10,
    kafka_records=200,
    kafka_pings=10,
    rows=50,
    objects=20,
    concurrency=8,
)


async def test_harness_measures_engines_and_settles_every_case_it_drives(
    platform: PlatformProcesses,
    settings: PlatformSettings,
    run_id: str,
    video: Path,
    tmp_path: Path,
) -> None:
    results = await engine_part(SMALL, settings, settings.database_url, run_id)
    load = await asyncio.to_thread(
        run_load, platform, 2.0, 2.0, 90.0, video, tmp_path / "load.json"
    )
    results["platform"].append(load)
    stem = finish(results, tmp_path, "bench-smoke")

    engines = {(e["engine"], e["count"]) for e in results["engines"]}
    assert engines == {
        ("Temporal", 10),
        ("Kafka", 10),
        ("Kafka", 200),
        ("PostgreSQL", 50),
        ("S3 (SeaweedFS)", 20),
    }
    assert all(e["seconds"] > 0 for e in results["engines"])

    # Four cases offered at 2 a second for 2 seconds, each counted when it settled.
    assert load["offered"] == 4
    assert load["errors"] == {}
    assert load["settled"] == 4
    # The session's insurers settle at once, so no case has a settlement step.
    for span, values in load["spans_ms"].items():
        if span in SETTLEMENT_STEP_SPANS:
            assert values["p50"] is None, span
            continue
        assert values["p50"] is not None, span
        assert 0 < values["p50"] <= values["p99"] <= values["max"], span
    assert set(load["resources"]) == set(platform.processes)
    assert all(u["peak_rss_mb"] > 0 for u in load["resources"].values())

    written = json.loads(stem.with_suffix(".json").read_text())
    assert written["summary"]["temporal_empty_workflows_per_second"] > 0
    assert written["machine"]["cores"] >= 1
    assert "submit→queued" in stem.with_suffix(".txt").read_text()
    assert stem.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
