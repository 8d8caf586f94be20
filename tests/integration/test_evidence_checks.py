"""Evidence checks, replacement uploads and the chain of custody on the real stack."""

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from common.db import create_pool
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from demo.client import PlatformClient, sample_case
from evidence.sample_video import RecordingTags, write_walkaround_video
from services.intake.custody_trail import verify_trail
from tests.support.platform import ROOT, PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
WAIT_SECONDS = 60.0
# The sample case's accident happened 12 minutes ago at these coordinates.
SCENE = (30.27415, 120.15515)
BEIJING = (39.90750, 116.39723)


def _recorded_video(folder: Path, name: str, point: tuple[float, float]) -> Path:
    tags = RecordingTags(
        recorded_at=datetime.now(UTC) - timedelta(minutes=10),
        latitude=point[0],
        longitude=point[1],
        apple=True,
    )
    return write_walkaround_video(folder / name, tags=tags)


async def _case_view(client: PlatformClient, case_id: UUID) -> dict[str, Any]:
    response = await client.intake_case(case_id)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def _wait_for_status(
    client: PlatformClient, case_id: UUID, status: str
) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        view = await _case_view(client, case_id)
        if view["status"] == status:
            return view
        await asyncio.sleep(0.2)
    raise TimeoutError(f"case {case_id} did not reach {status} in {WAIT_SECONDS} s")


async def _wait_for_templates(
    client: PlatformClient, case_id: UUID, template: str, count: int
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = [m for m in await client.messages(case_id) if m["template"] == template]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {count} {template} messages in {WAIT_SECONDS} s")


async def _custody_actions(settings: PlatformSettings, case_id: UUID) -> list[str]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        rows = await connection.fetch(
            "SELECT action FROM intake.custody_records WHERE case_id = $1"
            " ORDER BY position",
            case_id,
        )
    finally:
        await connection.close()
    return [row["action"] for row in rows]


async def _wait_for_custody(
    settings: PlatformSettings, case_id: UUID, action: str, count: int
) -> list[str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        actions = await _custody_actions(settings, case_id)
        if actions.count(action) >= count:
            return actions
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {count} {action} custody records")


async def test_video_from_elsewhere_is_replaced_then_queued(
    client: PlatformClient, settings: PlatformSettings, tmp_path: Path
) -> None:
    wrong_place = _recorded_video(tmp_path, "beijing.mov", BEIJING)
    at_scene = _recorded_video(tmp_path, "scene.mov", SCENE)
    case_id = await client.open_case(sample_case())
    assert (await client.upload_video(case_id, wrong_place)).status_code == 200
    assert (await client.submit(case_id)).status_code == 200

    waiting = await _wait_for_status(client, case_id, "resubmission_requested")
    texts = await _wait_for_templates(
        client, case_id, "evidence_resubmission_requested", 2
    )
    replaced = await client.upload_video(case_id, at_scene)
    case_file = await client.wait_until_queued(case_id)
    after = await _case_view(client, case_id)

    rejection = waiting["resubmission"]
    assert rejection["attempt"] == 1
    assert [finding["code"] for finding in rejection["findings"]] == [
        "recording_location_mismatch"
    ]
    assert rejection["message"].startswith("Rejected: the video was recorded at 39.")
    assert "km from the reported accident location" in rejection["message"]
    assert "请在事故现场重新拍摄视频" in rejection["message_zh"]
    assert {text["party_id"] for text in texts} == {"A", "B"}
    # The message list hides the link, which only the party's phone receives.
    assert all("/phone/#t=" not in text["body"] for text in texts)
    assert all("******" in text["body"] for text in texts)
    assert all("拍摄地点距报案的事故地点" in text["body"] for text in texts)
    assert replaced.status_code == 200, replaced.text
    assert after["status"] == "submitted"
    assert case_file["case"]["video"]["sha256"] == replaced.json()["sha256"]
    warning_codes = [warning["code"] for warning in case_file["warnings"]]
    assert warning_codes == ["too_short_for_walkaround"]
    seconds = [item["at_seconds"] for item in case_file["thumbnails"]]
    assert len(seconds) == 5
    assert seconds == sorted(seconds)
    assert 0 <= seconds[0] < seconds[-1] <= 8
    thumbnail = await client.http.get(case_file["thumbnails"][0]["url"])
    assert thumbnail.status_code == 200
    assert thumbnail.content[:2] == b"\xff\xd8"


async def test_video_without_tags_is_queued_with_warnings(
    client: PlatformClient, tmp_path: Path
) -> None:
    dark = write_walkaround_video(tmp_path / "dark.mp4", brightness=0.35)
    case_id = await client.open_case(sample_case())
    assert (await client.upload_video(case_id, dark)).status_code == 200
    assert (await client.submit(case_id)).status_code == 200

    case_file = await client.wait_until_queued(case_id)

    codes = [warning["code"] for warning in case_file["warnings"]]
    assert codes == [
        "recording_time_missing",
        "recording_location_missing",
        "too_dark",
        "too_short_for_walkaround",
    ]
    assert all(warning["severity"] == "warn" for warning in case_file["warnings"])


async def test_custody_trail_records_every_step(
    client: PlatformClient,
    settings: PlatformSettings,
    platform: PlatformProcesses,
    video: Path,
) -> None:
    case_id = await client.open_case(sample_case())
    assert (await client.upload_video(case_id, video)).status_code == 200
    assert (await client.submit(case_id)).status_code == 200
    await client.wait_until_queued(case_id)

    # One read of the video and five of thumbnails per opening.
    actions = await _wait_for_custody(settings, case_id, "read", 6)
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.intake.custody_trail",
        str(case_id),
        cwd=ROOT,
        env=platform.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(command.communicate(), 60)

    assert actions[0] == "uploaded"
    assert actions.count("hashed") == 1
    assert actions.count("derived") == 5
    assert command.returncode == 0, stderr.decode()
    lines = stdout.decode().splitlines()
    assert any("  uploaded  auxiliary officer 330501  cases/" in line for line in lines)
    assert any("  hashed  case-worker  " in line for line in lines)
    assert any("video link issued to an officer" in line for line in lines)
    assert sum(line.endswith(": ok, hash matches") for line in lines) == 6


async def test_changed_object_fails_custody_check(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case_id = await client.open_case(sample_case())
    upload = await client.upload_video(case_id, video)
    key = f"cases/{case_id}/video-{upload.json()['sha256'][:16]}"
    evidence = EvidenceStore(settings)
    pool = await create_pool(settings.database_url, "intake", max_size=2)
    try:
        await evidence.put_bytes(key, b"not the video", "video/mp4", "0" * 64)
        report = await verify_trail(pool, evidence, case_id)
    finally:
        await pool.close()

    assert not report.intact
    assert report.checks[0].object_key == key
    assert report.checks[0].recorded_sha256 == upload.json()["sha256"]
    assert report.checks[0].actual_sha256 != upload.json()["sha256"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE intake.custody_records SET actor = 'someone else'",
        "DELETE FROM intake.custody_records",
        "TRUNCATE intake.custody_records",
    ],
    ids=["update", "delete", "truncate"],
)
async def test_custody_records_are_append_only(
    client: PlatformClient, settings: PlatformSettings, video: Path, statement: str
) -> None:
    case_id = await client.open_case(sample_case())
    assert (await client.upload_video(case_id, video)).status_code == 200
    service = await create_pool(settings.database_url, "intake", max_size=1)
    owner = await asyncpg.connect(settings.database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as as_service:
            await service.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as as_owner:
            await owner.execute(statement)
        count = await owner.fetchval(
            "SELECT count(*) FROM intake.custody_records WHERE case_id = $1", case_id
        )
    finally:
        await service.close()
        await owner.close()

    assert "permission denied" in str(as_service.value)
    assert "append-only" in str(as_owner.value)
    assert count == 1
