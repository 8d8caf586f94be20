"""Broken videos are rejected with a reason at every door, never with a 5xx.

The corpus is built for each run (``tests/support/broken_videos.py``). Each file
goes through the resumable upload (parts to storage, then complete) and the
whole-file upload, and the case still cannot be submitted afterwards.
"""

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from common.settings import PlatformSettings
from demo.client import PlatformClient, sample_case
from demo.uploads import UploadClient
from tests.support.broken_videos import (
    EXPECTED_CODES,
    SNIFFED_AS_OTHER,
    write_broken_videos,
)
from tests.support.phone import party_session

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PHONE_A = sample_case()["parties"][0]["phone"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_broken_videos(tmp_path_factory.mktemp("broken-videos"))


async def _party_uploads(
    client: PlatformClient, settings: PlatformSettings
) -> UploadClient:
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


def _assert_problem(response: httpx.Response, status: int, codes: set[str]) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["code"] in codes, detail
    assert detail["message"]
    assert detail["message_zh"]


@pytest.mark.parametrize("kind", sorted(EXPECTED_CODES))
async def test_broken_video_rejected_in_parts(
    kind: str,
    corpus: dict[str, Path],
    client: PlatformClient,
    settings: PlatformSettings,
) -> None:
    uploads = await _party_uploads(client, settings)
    path = corpus[kind]

    created = await uploads.create("video", "video/mp4", path.stat().st_size)
    upload = created.json()
    sent = await uploads.send_parts(upload, path)
    completed = await uploads.complete(upload["upload_id"], sent)
    submitted = await client.submit(uploads.case_id)

    assert created.status_code == 201, created.text
    # Bytes that are no video container at all fail the content sniffing first.
    codes = {"content_mismatch"} if kind in SNIFFED_AS_OTHER else EXPECTED_CODES[kind]
    _assert_problem(completed, 422, codes)
    _assert_problem(submitted, 409, {"video_missing"})


@pytest.mark.parametrize("kind", sorted(EXPECTED_CODES))
async def test_broken_video_rejected_whole(
    kind: str, corpus: dict[str, Path], client: PlatformClient
) -> None:
    case_id = await client.open_case(sample_case())

    uploaded = await client.upload_video(case_id, corpus[kind])
    submitted = await client.submit(case_id)

    _assert_problem(uploaded, 422, EXPECTED_CODES[kind])
    _assert_problem(submitted, 409, {"video_missing"})


async def _put_declaring(url: str, headers: dict[str, str], length: int) -> bytes:
    """PUT a few bytes under a declared Content-Length of ``length``, over a socket.

    HTTP clients refuse to send a body shorter than its declared length, so the
    request is written by hand. Returns the raw response.
    """
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    lines = [
        f"PUT {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: video/mp4",
        f"Content-Length: {length}",
        "Connection: close",
        *[f"{name}: {value}" for name, value in headers.items()],
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + b"\x00" * 16)
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    return response


async def test_huge_declared_length_rejected(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    uploads = await _party_uploads(client, settings)
    case_id = await client.open_case(sample_case())
    huge = 2**62

    planned = await uploads.create("video", "video/mp4", huge)
    raw = await _put_declaring(
        f"{client.urls.intake}/cases/{case_id}/video", client.intake_headers, huge
    )
    status_line, _, rest = raw.partition(b"\r\n")
    body = json.loads(rest.partition(b"\r\n\r\n")[2])

    _assert_problem(planned, 413, {"upload_too_large"})
    assert status_line.split()[1] == b"413", raw[:200]
    assert body["detail"]["code"] == "upload_too_large"
    assert body["detail"]["message_zh"]
