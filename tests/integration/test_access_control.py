"""Who may call each HTTP endpoint of the four services, checked on the real stack.

The first test walks every operation of every service's OpenAPI document and calls
it with no credentials: all but the public ones must reject it with 401. The others
check the roles and sessions the endpoints accept.
"""

import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from common.settings import PlatformSettings
from demo.client import LOCAL_SUPERVISOR, PlatformClient, bearer, sample_case
from tests.support.phone import party_session
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SERVICES = ("intake", "liability", "insurance", "notify")
# Operations anyone may call, and why.
PUBLIC: dict[str, set[tuple[str, str]]] = {
    "intake": {
        ("GET", "/healthz"),
        # Answers the eligibility questions and records nothing.
        ("POST", "/cases/eligibility"),
        # The link token in the body is the credential.
        ("POST", "/access/code"),
        ("POST", "/access/session"),
    },
    "liability": {
        ("GET", "/healthz"),
        ("GET", "/auth/config"),
        ("POST", "/auth/sign-in"),
        # Anyone holding a ruling document may check it.
        ("POST", "/documents/verify"),
        ("POST", "/documents/{document_number}/verify-pdf"),
        # The key that checks a document's signature offline; a public key.
        ("GET", "/documents/public-key"),
    },
    "insurance": {
        ("GET", "/healthz"),
        # The event contracts, for insurers' developers; no case data.
        ("GET", "/contracts/asyncapi.json"),
        ("GET", "/contracts/schemas"),
        ("GET", "/contracts/schemas/{file_name}"),
    },
    "notify": {("GET", "/healthz")},
}
PATH_VALUES = {
    "insurer_code": "PICC",
    "file_name": "ClaimOpened.v1.json",
    "document_number": "DZ20261204-00000000",
}
PHONE_A = sample_case()["parties"][0]["phone"]


def _base_url(platform: PlatformProcesses, service: str) -> str:
    return f"http://127.0.0.1:{platform.env[f'DINGZE_{service.upper()}_PORT']}"


def _fill(path: str) -> str:
    """Put a value into each path parameter: a fresh UUID unless it names a code."""
    for name, value in PATH_VALUES.items():
        path = path.replace(f"{{{name}}}", value)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    ]


def _problem(response: httpx.Response) -> dict[str, str]:
    detail: dict[str, str] = response.json()["detail"]
    return detail


@pytest.mark.parametrize("service", SERVICES)
async def test_endpoints_refuse_anonymous_callers(
    platform: PlatformProcesses, service: str
) -> None:
    base = _base_url(platform, service)
    async with httpx.AsyncClient(timeout=60) as http:
        document = (await http.get(f"{base}/openapi.json")).json()
        operations = _operations(document)
        answers = {
            (method, path): await http.request(
                method, base + _fill(path), json={}, headers={}
            )
            for method, path in operations
            if (method, path) not in PUBLIC[service]
        }

    assert PUBLIC[service] <= set(operations), "a public operation is gone"
    assert len(answers) > 0
    for (method, path), response in answers.items():
        assert response.status_code == 401, f"{method} {path}: {response.text}"
        assert _problem(response)["code"], f"{method} {path}"
        assert _problem(response)["message"], f"{method} {path}"


async def test_party_cannot_open_case_or_send_links(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    session = await party_session(
        client.http,
        client.urls.intake,
        settings.database_url,
        case_id,
        PHONE_A,
        client.intake_headers,
    )

    opened = await client.http.post(
        f"{client.urls.intake}/cases", json=sample_case(), headers=bearer(session)
    )
    links = await client.http.post(
        f"{client.urls.intake}/cases/{case_id}/party-links", headers=bearer(session)
    )

    for response in (opened, links):
        assert response.status_code == 403, response.text
        assert _problem(response)["code"] == "auxiliary_officer_required"
        assert _problem(response)["message_zh"] == "只有辅警可以报案或发送短信链接。"


async def test_liability_officer_cannot_open_case(client: PlatformClient) -> None:
    opened = await client.http.post(
        f"{client.urls.intake}/cases", json=sample_case(), headers=client.staff_headers
    )

    assert opened.status_code == 403, opened.text
    assert _problem(opened)["code"] == "role_not_allowed"
    assert _problem(opened)["message_zh"] == "只有辅警可以代为处理现场案件。"


async def test_anonymous_case_calls_get_sign_in_message(
    client: PlatformClient,
) -> None:
    case_id = await client.open_case(sample_case())
    intake = client.urls.intake

    opened = await client.http.post(f"{intake}/cases", json=sample_case())
    viewed = await client.http.get(f"{intake}/cases/{case_id}")
    submitted = await client.http.post(f"{intake}/cases/{case_id}/submit")
    uploaded = await client.http.put(
        f"{intake}/cases/{case_id}/video",
        content=b"\0" * 1024,
        headers={"content-type": "video/mp4"},
    )

    assert opened.status_code == 401
    assert _problem(opened)["code"] == "sign_in_required"
    assert _problem(opened)["message_zh"] == "请辅警登录后再操作。"
    for response in (viewed, submitted, uploaded):
        assert response.status_code == 401, response.text
        assert _problem(response)["code"] == "sign_in_required"
        assert _problem(response)["message_zh"] == "请先打开短信链接并输入验证码。"
    assert (await client.intake_case(case_id)).json()["status"] == "draft"


async def test_party_session_of_other_case_is_refused(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    own_case = await client.open_case(sample_case())
    other_case = await client.open_case(sample_case())
    session = bearer(
        await party_session(
            client.http,
            client.urls.intake,
            settings.database_url,
            own_case,
            PHONE_A,
            client.intake_headers,
        )
    )
    intake = client.urls.intake

    viewed = await client.http.get(f"{intake}/cases/{other_case}", headers=session)
    submitted = await client.http.post(
        f"{intake}/cases/{other_case}/submit", headers=session
    )
    uploaded = await client.http.put(
        f"{intake}/cases/{other_case}/video",
        content=video.read_bytes(),
        headers={"content-type": "video/mp4", **session},
    )

    for response in (viewed, submitted, uploaded):
        assert response.status_code == 403, response.text
        assert _problem(response)["code"] == "case_not_yours"
        assert _problem(response)["message_zh"] == (
            "该链接不属于这个案件，请打开本案件的短信链接。"
        )
    assert (await client.intake_case(other_case)).json()["video"] is None


async def test_party_uploads_and_submits_own_case(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case_id = await client.open_case(sample_case())
    intake = client.urls.intake
    session = bearer(
        await party_session(
            client.http,
            intake,
            settings.database_url,
            case_id,
            PHONE_A,
            client.intake_headers,
        )
    )

    viewed = await client.http.get(f"{intake}/cases/{case_id}", headers=session)
    uploaded = await client.http.put(
        f"{intake}/cases/{case_id}/video",
        content=video.read_bytes(),
        headers={"content-type": "video/mp4", **session},
    )
    submitted = await client.http.post(
        f"{intake}/cases/{case_id}/submit", headers=session
    )
    actors = await _custody_actors(settings, case_id)

    assert viewed.status_code == 200, viewed.text
    assert uploaded.status_code == 200, uploaded.text
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert actors == ["party A"]


async def test_party_without_consent_cannot_submit(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case_id = await client.open_case(sample_case())
    assert (await client.upload_video(case_id, video)).status_code == 200
    session = bearer(
        await party_session(
            client.http,
            client.urls.intake,
            settings.database_url,
            case_id,
            PHONE_A,
            client.intake_headers,
            consent=False,
        )
    )

    submitted = await client.http.post(
        f"{client.urls.intake}/cases/{case_id}/submit", headers=session
    )

    assert submitted.status_code == 409, submitted.text
    assert _problem(submitted)["code"] == "consent_required"
    assert (await client.intake_case(case_id)).json()["status"] == "draft"


async def test_whole_file_upload_names_auxiliary_officer(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case_id = await client.open_case(sample_case())

    uploaded = await client.upload_video(case_id, video)
    actors = await _custody_actors(settings, case_id)

    assert uploaded.status_code == 200, uploaded.text
    assert actors == ["auxiliary officer 330501"]


async def test_messages_need_operator_or_supervisor(client: PlatformClient) -> None:
    case_id = await client.open_case(sample_case())
    supervisor = await client.request_token(*LOCAL_SUPERVISOR)
    url = f"{client.urls.notify}/cases/{case_id}/messages"

    as_officer = await client.http.get(url, headers=client.staff_headers)
    as_auxiliary = await client.http.get(url, headers=client.intake_headers)
    as_operator = await client.http.get(url, headers=client.notify_headers)
    as_supervisor = await client.http.get(
        url, headers=bearer(supervisor["access_token"])
    )

    for response in (as_officer, as_auxiliary):
        assert response.status_code == 403, response.text
        assert _problem(response)["code"] == "role_required"
    assert as_operator.status_code == 200, as_operator.text
    assert as_supervisor.status_code == 200, as_supervisor.text


async def _custody_actors(settings: PlatformSettings, case_id: UUID) -> list[str]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        rows = await connection.fetch(
            "SELECT actor FROM intake.custody_records"
            " WHERE case_id = $1 AND action = 'uploaded' ORDER BY occurred_at",
            case_id,
        )
    finally:
        await connection.close()
    return [row["actor"] for row in rows]
