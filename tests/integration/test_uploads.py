"""Resumable uploads straight to storage, and each refusal with the phone's message."""

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import pytest
from minio.error import S3Error

from common.multipart import MultipartStorage
from common.settings import PlatformSettings
from demo.client import PlatformClient, sample_case
from demo.uploads import UploadClient
from evidence.sample_video import RecordingTags, write_walkaround_video
from tests.support.phone import party_session

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PHONE_A = sample_case()["parties"][0]["phone"]
MIB = 1024 * 1024


@pytest.fixture
async def uploads(client: PlatformClient, settings: PlatformSettings) -> UploadClient:
    """An upload client of a new case, signed in as party A with consent given."""
    case_id = await client.open_case(sample_case())
    token = await party_session(
        client.http,
        client.urls.intake,
        settings.database_url,
        case_id,
        PHONE_A,
        client.intake_headers,
    )
    return UploadClient(client.http, client.urls.intake, case_id, token)


@pytest.fixture(scope="module")
def random_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """17 MiB of bytes: four parts of the tests' 5 MiB, the last one 2 MiB."""
    path = tmp_path_factory.mktemp("random") / "random.bin"
    path.write_bytes(bytes(range(256)) * (17 * MIB // 256))
    return path


def _problem(response: httpx.Response) -> dict[str, str]:
    detail: dict[str, str] = response.json()["detail"]
    return detail


def _stat_error(settings: PlatformSettings, key: str) -> str | None:
    """Return the error code of reading the object's metadata, or None."""
    storage = MultipartStorage(settings)
    try:
        storage._client.stat_object(storage.bucket, key)
    except S3Error as error:
        return str(error.code)
    return None


async def test_video_uploads_in_parts_and_resumes(
    uploads: UploadClient, client: PlatformClient, video: Path
) -> None:
    created = await uploads.create("video", "video/mp4", video.stat().st_size)
    upload = created.json()
    before = await uploads.get(upload["upload_id"])
    sent = await uploads.send_parts(upload, video)
    resumed = await uploads.get(upload["upload_id"])
    completed = await uploads.complete(upload["upload_id"], sent)
    case = await client.intake_case(uploads.case_id)

    assert created.status_code == 201, created.text
    assert before.json()["parts"] == []
    assert [p["part_number"] for p in resumed.json()["parts"]] == [1]
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    assert completed.json()["sha256"] == digest
    assert completed.json()["evidence"]["facts"]["codec"] == "h264"
    assert case.json()["video"]["sha256"] == digest


async def test_video_over_size_limit_is_rejected(uploads: UploadClient) -> None:
    response = await uploads.create("video", "video/mp4", 1024**3 + 1)

    assert response.status_code == 413
    assert _problem(response)["code"] == "upload_too_large"
    assert _problem(response)["message_zh"] == (
        "视频文件太大（超过 1024 MB），请拍摄较短的视频。"
    )


async def test_undeclared_type_is_rejected(uploads: UploadClient) -> None:
    response = await uploads.create("video", "application/pdf", 1000)

    assert response.status_code == 415
    assert _problem(response)["code"] == "content_type_not_accepted"
    assert "MP4、MOV、3GP 或 WebM" in _problem(response)["message_zh"]


async def test_bytes_not_matching_type_are_rejected_and_deleted(
    uploads: UploadClient, settings: PlatformSettings, tmp_path: Path
) -> None:
    fake = tmp_path / "scene.mp4"
    fake.write_bytes("不是视频".encode() * 1000)

    response = await uploads.upload_file(fake, "video", "video/mp4")
    upload_id = response.request.url.path.split("/")[-2]

    assert response.status_code == 422
    assert _problem(response)["code"] == "content_mismatch"
    assert _problem(response)["message_zh"] == (
        "文件内容与视频格式不符，已删除，请重新选择手机相机录制的视频。"
    )
    key = f"cases/{uploads.case_id}/uploads/{upload_id}/video"
    assert _stat_error(settings, key) == "NoSuchKey"


async def test_photo_declared_as_video_is_rejected(
    uploads: UploadClient, tmp_path: Path
) -> None:
    photo = tmp_path / "plate.mp4"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(5000))

    response = await uploads.upload_file(photo, "video", "video/mp4")

    assert response.status_code == 422
    assert "image/jpeg" in _problem(response)["message"]


async def test_truncated_video_is_rejected(
    uploads: UploadClient, video: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])

    response = await uploads.upload_file(cut, "video", "video/mp4")

    assert response.status_code == 422
    assert _problem(response)["code"] == "video_truncated"
    assert _problem(response)["message_zh"] == (
        "视频不完整（上传中断），请重新上传完整视频。"
    )


async def test_second_racing_video_is_rejected(uploads: UploadClient) -> None:
    responses = await asyncio.gather(
        uploads.create("video", "video/mp4", 10 * MIB),
        uploads.create("video", "video/webm", 12 * MIB),
    )

    codes = sorted(response.status_code for response in responses)
    loser = next(response for response in responses if response.status_code == 409)
    assert codes == [201, 409]
    assert _problem(loser)["code"] == "video_upload_in_progress"
    assert _problem(loser)["message_zh"] == (
        "本案件已有一段视频正在上传，请等它完成或取消后再上传。"
    )


async def test_aborted_video_frees_the_case(uploads: UploadClient) -> None:
    first = (await uploads.create("video", "video/mp4", 10 * MIB)).json()

    aborted = await uploads.abort(first["upload_id"])
    second = await uploads.create("video", "video/mp4", 10 * MIB)
    urls = await uploads.part_urls(first["upload_id"], [1])

    assert aborted.json()["status"] == "aborted"
    assert second.status_code == 201
    assert urls.status_code == 410
    assert _problem(urls)["code"] == "upload_expired"
    assert _problem(urls)["message_zh"] == "上传已取消或已过期，请重新选择文件上传。"


async def test_photos_beyond_limit_are_rejected(uploads: UploadClient) -> None:
    for _ in range(10):
        created = await uploads.create("photo", "image/jpeg", 100_000)
        assert created.status_code == 201, created.text

    response = await uploads.create("photo", "image/png", 100_000)

    assert response.status_code == 409
    assert _problem(response)["code"] == "photo_limit_reached"
    assert _problem(response)["message_zh"] == "照片数量已达上限（10 张），不能再添加。"


async def test_completion_with_missing_part_is_rejected(
    uploads: UploadClient, random_file: Path
) -> None:
    upload = (await uploads.create("video", "video/mp4", 17 * MIB)).json()
    await uploads.send_parts(upload, random_file, [1, 3])

    response = await uploads.complete(upload["upload_id"])

    assert upload["part_count"] == 4
    assert response.status_code == 409
    assert _problem(response)["code"] == "parts_missing"
    assert "parts 2, 4 of 4" in _problem(response)["message"]
    assert _problem(response)["message_zh"] == (
        "还有 2 段数据没有上传完成，请保持网络连接继续上传。"
    )


async def test_parts_listed_out_of_order_are_rejected(
    uploads: UploadClient, random_file: Path
) -> None:
    upload = (await uploads.create("video", "video/mp4", 17 * MIB)).json()
    sent = await uploads.send_parts(upload, random_file)

    response = await uploads.complete(upload["upload_id"], list(reversed(sent)))

    assert response.status_code == 422
    assert _problem(response)["code"] == "parts_out_of_order"
    assert _problem(response)["message_zh"] == "上传的分段顺序有误，请重新提交。"


async def test_part_of_wrong_size_is_rejected(
    uploads: UploadClient, random_file: Path
) -> None:
    upload = (await uploads.create("video", "video/mp4", 9 * MIB)).json()
    await uploads.send_parts(upload, random_file, [1])
    url = (await uploads.part_urls(upload["upload_id"], [2])).json()["urls"][0]
    await uploads.http.put(url["url"], content=bytes(2 * MIB))

    response = await uploads.complete(upload["upload_id"])

    assert response.status_code == 422
    assert _problem(response)["code"] == "part_size_mismatch"
    assert _problem(response)["message_zh"] == "上传的数据大小与文件不符，请重新上传。"


async def test_part_number_outside_upload_is_rejected(uploads: UploadClient) -> None:
    upload = (await uploads.create("video", "video/mp4", 9 * MIB)).json()

    response = await uploads.part_urls(upload["upload_id"], [3])

    assert response.status_code == 422
    assert _problem(response)["code"] == "part_number_out_of_range"


async def test_completed_upload_links_are_not_reused(
    uploads: UploadClient, video: Path
) -> None:
    upload = (await uploads.create("video", "video/mp4", video.stat().st_size)).json()
    sent = await uploads.send_parts(upload, video)
    await uploads.complete(upload["upload_id"], sent)

    urls = await uploads.part_urls(upload["upload_id"], [1])
    again = await uploads.complete(upload["upload_id"], sent)

    assert urls.status_code == 409
    assert _problem(urls)["code"] == "upload_already_completed"
    assert (
        _problem(urls)["message_zh"] == "这个文件已经上传完成，上传链接不能重复使用。"
    )
    assert again.status_code == 409


async def test_expired_part_url_is_rejected_by_storage(
    uploads: UploadClient, settings: PlatformSettings, video: Path
) -> None:
    upload = (await uploads.create("video", "video/mp4", video.stat().st_size)).json()
    given = (await uploads.part_urls(upload["upload_id"], [1])).json()["urls"][0]
    storage_upload_id = parse_qs(urlsplit(given["url"]).query)["uploadId"][0]
    key = f"cases/{uploads.case_id}/uploads/{upload['upload_id']}/video"
    storage = MultipartStorage(settings)
    url = storage.part_url(key, storage_upload_id, 1, timedelta(seconds=1))
    await asyncio.sleep(2)

    expired = await uploads.http.put(url, content=video.read_bytes())
    fresh = await uploads.send_parts(upload, video)

    assert expired.status_code == 403
    assert "Request has expired" in expired.text
    assert len(fresh) == 1


async def test_upload_without_consent_is_rejected(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    token = await party_session(
        client.http,
        client.urls.intake,
        settings.database_url,
        case_id,
        PHONE_A,
        client.intake_headers,
        consent=False,
    )
    uploads = UploadClient(client.http, client.urls.intake, case_id, token)

    response = await uploads.create("video", "video/mp4", 1000)

    assert response.status_code == 409
    assert _problem(response)["code"] == "consent_required"
    assert _problem(response)["message_zh"] == (
        "请先阅读并同意远程处理事故的说明，再上传。"
    )


async def test_session_of_other_case_is_rejected(
    uploads: UploadClient, client: PlatformClient
) -> None:
    other_case = await client.open_case(sample_case())
    foreign = UploadClient(client.http, client.urls.intake, other_case, uploads.token)

    response = await foreign.create("video", "video/mp4", 1000)

    assert response.status_code == 403
    assert _problem(response)["code"] == "case_not_yours"


async def test_upload_without_sign_in_is_rejected(client: PlatformClient) -> None:
    case_id = await client.open_case(sample_case())

    response = await client.http.post(
        f"{client.urls.intake}/cases/{case_id}/uploads",
        json={"kind": "video", "content_type": "video/mp4", "size_bytes": 1000},
    )

    assert response.status_code == 401
    assert _problem(response)["code"] == "sign_in_required"
    assert _problem(response)["message_zh"] == "请先打开短信链接并输入验证码。"


async def test_auxiliary_officer_opens_case_and_uploads(
    client: PlatformClient, video: Path
) -> None:
    signed_in = await client.sign_in("auxiliary", "auxiliary-local")
    opened = await client.http.post(
        f"{client.urls.intake}/cases", json=sample_case(), headers=client.staff_headers
    )
    case_id = opened.json()["case_id"]
    officer = UploadClient(
        client.http, client.urls.intake, case_id, signed_in["access_token"]
    )

    response = await officer.upload_file(video, "video", "video/mp4")

    assert opened.status_code == 201, opened.text
    assert opened.json()["reporter_badge"] == "330501"
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"


async def test_officer_without_auxiliary_role_cannot_upload(
    client: PlatformClient,
) -> None:
    signed_in = await client.sign_in("officer", "officer-local")
    case_id = await client.open_case(sample_case())
    officer = UploadClient(
        client.http, client.urls.intake, case_id, signed_in["access_token"]
    )

    response = await officer.create("video", "video/mp4", 1000)

    assert response.status_code == 403
    assert _problem(response)["code"] == "role_not_allowed"
    assert _problem(response)["message_zh"] == "只有辅警可以代为处理现场案件。"


async def test_party_replaces_rejected_video_through_parts(
    client: PlatformClient, settings: PlatformSettings, tmp_path: Path
) -> None:
    def recorded_at(point: tuple[float, float], name: str) -> Path:
        tags = RecordingTags(
            recorded_at=datetime.now(UTC) - timedelta(minutes=10),
            latitude=point[0],
            longitude=point[1],
            apple=True,
        )
        return write_walkaround_video(tmp_path / name, tags=tags)

    # The sample case's accident is at the first point; Beijing is far from it.
    at_scene = recorded_at((30.27415, 120.15515), "scene.mov")
    elsewhere = recorded_at((39.90750, 116.39723), "beijing.mov")
    case_id = await client.open_case(sample_case())
    assert (await client.upload_video(case_id, elsewhere)).status_code == 200
    assert (await client.submit(case_id)).status_code == 200
    await _wait_for_status(client, case_id, "resubmission_requested")
    token = await party_session(
        client.http,
        client.urls.intake,
        settings.database_url,
        case_id,
        PHONE_A,
        client.intake_headers,
    )
    uploads = UploadClient(client.http, client.urls.intake, case_id, token)

    view = await client.http.get(
        f"{client.urls.intake}/party/case",
        headers={"authorization": f"Bearer {token}"},
    )
    replaced = await uploads.upload_file(at_scene, "video", "video/quicktime")
    case_file = await client.wait_until_queued(case_id)

    assert view.json()["status"] == "resubmission_requested"
    assert "请在事故现场重新拍摄视频" in view.json()["redo_zh"]
    assert view.json()["redo_by"] is not None
    assert replaced.status_code == 200, replaced.text
    assert case_file["case"]["video"]["sha256"] == replaced.json()["sha256"]


async def _wait_for_status(
    client: PlatformClient, case_id: UUID, status: str, seconds: float = 60.0
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        case = await client.intake_case(case_id)
        if case.json()["status"] == status:
            return
        await asyncio.sleep(0.3)
    raise TimeoutError(f"case {case_id} did not reach {status} in {seconds} s")
