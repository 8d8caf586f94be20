"""A case keeps one scene video: its uploader may replace it, others add photos.

A video that the checks rejected is replaced by anyone; ``test_uploads`` shows a
party replacing the auxiliary officer's rejected video.
"""

from pathlib import Path
from uuid import UUID

import pytest

from common.settings import PlatformSettings
from demo.client import PlatformClient, bearer, sample_case
from demo.uploads import UploadClient
from evidence.sample_video import write_walkaround_video
from tests.support.phone import party_session

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PHONE_A = sample_case()["parties"][0]["phone"]
PHONE_B = sample_case()["parties"][1]["phone"]
REFUSAL_ZH = "本案件已有其他人上传的现场视频，您不能替换。如需补充证据，请上传照片。"


async def _party_uploads(
    client: PlatformClient, settings: PlatformSettings, case_id: UUID, phone: str
) -> UploadClient:
    token = await party_session(
        client.http,
        client.urls.intake,
        settings.database_url,
        case_id,
        phone,
        client.intake_headers,
    )
    return UploadClient(client.http, client.urls.intake, case_id, token)


async def _case_video_sha256(client: PlatformClient, case_id: UUID) -> str:
    case = await client.intake_case(case_id)
    assert case.status_code == 200, case.text
    sha256: str = case.json()["video"]["sha256"]
    return sha256


@pytest.fixture(scope="module")
def second_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walkaround_video(
        tmp_path_factory.mktemp("second") / "retake.mp4", seconds=9
    )


async def test_uploader_replaces_own_video(
    client: PlatformClient,
    settings: PlatformSettings,
    video: Path,
    second_video: Path,
) -> None:
    case_id = await client.open_case(sample_case())
    party_a = await _party_uploads(client, settings, case_id, PHONE_A)

    first = await party_a.upload_file(video, "video", "video/mp4")
    retake = await party_a.upload_file(second_video, "video", "video/mp4")

    assert first.status_code == 200, first.text
    assert retake.status_code == 200, retake.text
    assert await _case_video_sha256(client, case_id) == retake.json()["sha256"]


async def test_other_party_cannot_replace_video(
    client: PlatformClient,
    settings: PlatformSettings,
    video: Path,
    second_video: Path,
    tmp_path: Path,
) -> None:
    case_id = await client.open_case(sample_case())
    party_a = await _party_uploads(client, settings, case_id, PHONE_A)
    party_b = await _party_uploads(client, settings, case_id, PHONE_B)
    photo = tmp_path / "damage.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(5000))
    kept = await party_a.upload_file(video, "video", "video/mp4")

    planned = await party_b.create("video", "video/mp4", second_video.stat().st_size)
    whole_file = await client.http.put(
        f"{client.urls.intake}/cases/{case_id}/video",
        content=second_video.read_bytes(),
        headers={"content-type": "video/mp4", **bearer(party_b.token)},
    )
    by_officer = await client.upload_video(case_id, second_video)
    added_photo = await party_b.upload_file(photo, "photo", "image/jpeg")

    assert kept.status_code == 200, kept.text
    for response in (planned, whole_file, by_officer):
        assert response.status_code == 409, response.text
        assert response.json()["detail"]["code"] == "video_already_uploaded"
        assert response.json()["detail"]["message_zh"] == REFUSAL_ZH
        assert "party A" in response.json()["detail"]["message"]
    assert added_photo.status_code == 200, added_photo.text
    assert await _case_video_sha256(client, case_id) == kept.json()["sha256"]


async def test_video_finished_first_is_kept(
    client: PlatformClient,
    settings: PlatformSettings,
    video: Path,
    second_video: Path,
) -> None:
    case_id = await client.open_case(sample_case())
    party_b = await _party_uploads(client, settings, case_id, PHONE_B)
    created = await party_b.create("video", "video/mp4", second_video.stat().st_size)
    upload = created.json()
    parts = await party_b.send_parts(upload, second_video)

    # The auxiliary officer's whole-file upload finishes while party B's is open.
    first = await client.upload_video(case_id, video)
    completed = await party_b.complete(upload["upload_id"], parts)
    finished = await party_b.get(upload["upload_id"])

    assert created.status_code == 201, created.text
    assert first.status_code == 200, first.text
    assert completed.status_code == 409, completed.text
    assert completed.json()["detail"]["code"] == "video_already_uploaded"
    assert finished.json()["status"] == "rejected"
    assert await _case_video_sha256(client, case_id) == first.json()["sha256"]
