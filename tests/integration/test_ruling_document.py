"""The signed ruling document of a real case, and its public verification."""

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from temporalio.client import Client

from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.documents import IssuedDocument
from demo.client import PlatformClient, sample_ruling
from documents.archive import DocumentArchive
from documents.keys import load_private_key, verification_code
from tests.support.cases import case_outcome, claimed_case

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def _issued_document(
    client: PlatformClient, temporal: Client, settings: PlatformSettings, video: Path
) -> tuple[IssuedDocument, bytes]:
    case_id = await claimed_case(client, video)
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text
    outcome = await case_outcome(temporal, case_id)
    issued = next(e for e in outcome.timeline if e.step == "ruling document issued")
    number = issued.detail.split()[0]
    archive = DocumentArchive(EvidenceStore(settings))
    records = await archive.records(number)
    assert [record.version for record in records] == [1]
    return records[0], await archive.pdf(records[0])


async def _verify_pdf(
    client: PlatformClient, number: str, code: str, pdf: bytes
) -> dict[str, Any]:
    response = await client.http.post(
        f"{client.urls.liability}/documents/{number}/verify-pdf",
        params={"code": code},
        content=pdf,
        headers={"content-type": "application/pdf"},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_ruled_case_document_verifies(
    client: PlatformClient, temporal: Client, settings: PlatformSettings, video: Path
) -> None:
    document, pdf = await _issued_document(client, temporal, settings, video)
    code = verification_code(
        load_private_key(settings.document_key_file), document.document_number
    )
    tampered = bytearray(pdf)
    tampered[len(tampered) // 3] ^= 0x20
    other_code = verification_code(
        load_private_key(settings.document_key_file), "DZ20260101-00000000"
    )

    genuine = await _verify_pdf(client, document.document_number, code, pdf)
    altered = await _verify_pdf(client, document.document_number, code, bytes(tampered))
    wrong_code = await _verify_pdf(client, document.document_number, other_code, pdf)
    by_hash = await client.http.post(
        f"{client.urls.liability}/documents/verify",
        json={
            "document_number": document.document_number,
            "code": f"{code[:4]}-{code[4:]}",
            "sha256": hashlib.sha256(pdf).hexdigest(),
        },
    )
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages
    ).replace("\n", "")

    assert genuine["genuine"] is True, genuine
    assert genuine["version"] == 1
    assert altered["genuine"] is False
    assert altered["reason"] == "altered"
    assert wrong_code["genuine"] is False
    assert wrong_code["reason"] == "code_mismatch"
    assert by_hash.json()["genuine"] is True
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert document.document_number in text
    assert "事故类型：追尾" in text
    assert "当事人乙承担全部责任（100%）" in text
    assert "浙A12345" in text


async def test_unknown_document_is_not_genuine(client: PlatformClient) -> None:
    response = await client.http.post(
        f"{client.urls.liability}/documents/verify",
        json={
            "document_number": "DZ20260101-00000000",
            "code": "ABCDEFGH",
            "sha256": "0" * 64,
        },
    )

    assert response.status_code == 200
    assert response.json()["reason"] == "unknown_document"


async def test_accident_types_served(client: PlatformClient) -> None:
    response = await client.http.get(
        f"{client.urls.liability}/accident-types", headers=client.staff_headers
    )
    anonymous = await client.http.get(f"{client.urls.liability}/accident-types")

    assert response.status_code == 200
    assert anonymous.status_code == 401
    codes = {item["code"] for item in response.json()["types"]}
    assert {"rear_end", "lane_change", "reversing", "door_opening"} <= codes


async def test_departure_without_reason_rejected(
    client: PlatformClient, video: Path
) -> None:
    case_id = await claimed_case(client, video)
    ruling = {
        **sample_ruling(),
        "liabilities": [
            {"party_id": "A", "category": "secondary", "share": 30},
            {"party_id": "B", "category": "primary", "share": 70},
        ],
    }

    rejected = await client.rule(case_id, ruling)
    accepted = await client.rule(
        case_id, {**ruling, "departure_reason": "甲车倒车后急停，视频可见。"}
    )

    assert rejected.status_code == 422
    problems = rejected.json()["detail"]["problems"]
    assert [problem["code"] for problem in problems] == ["departure_reason_required"]
    assert problems[0]["field"] == "departure_reason"
    assert accepted.status_code == 200, accepted.text
