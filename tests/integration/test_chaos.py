"""A short chaos run: every process and engine killed once while cases run.

It kills the session's own platform processes and the stack's engines with
SIGKILL, one after another, and expects every case to settle with nothing
doubled, lost or changed. The later tests then run on the restarted processes.
"""

from pathlib import Path

import pytest

from chaos.run import ChaosOptions, Progress, run_chaos
from chaos.targets import Target, engine_targets, platform_targets
from common.settings import PlatformSettings
from tests.support.platform import PlatformProcesses

SHORT_RUN = ChaosOptions(
    cases=3, seed=11, pause_seconds=0.5, gap_seconds=0.5, drain_seconds=240.0
)


@pytest.mark.timeout(600)
async def test_chaos_run_loses_and_doubles_nothing(
    platform: PlatformProcesses, settings: PlatformSettings, video: Path
) -> None:
    targets: list[Target] = [*platform_targets(platform), *engine_targets(settings)]
    test_settings = settings.model_copy(
        update={"kafka_topic_prefix": platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]}
    )

    findings = await run_chaos(
        test_settings, platform.urls, targets, video, SHORT_RUN, Progress()
    )

    print(findings.render())
    assert findings.started == 3
    assert findings.finished == 3
    assert findings.stuck == []
    assert findings.duplicate_sms == []
    assert findings.duplicate_notifications == []
    assert findings.lost_events == []
    assert findings.corrupted_evidence == []
    assert findings.clean
