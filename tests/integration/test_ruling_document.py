"""The signed ruling document of a real case, and its public verification."""

import asyncio
import hashlib
import io
import subprocess
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from temporalio.client import Client

from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.documents import IssuedDocument
from demo.client import (
    LOCAL_AUXILIARY,
    LOCAL_SUPERVISOR,
    PlatformClient,
    sample_ruling,
)
from documents.archive import DocumentArchive
from documents.keys import key_id, load_private_key, verification_code
from tests.support.cases import case_outcome, claimed_case, queued_case

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# The offline check as the README gives it: OpenSSL verifies the Ed25519 signature
# over the fixed prefix and the PDF's SHA-256, with the served public key.
OFFLINE_CHECK = r"""
printf 'dingze ruling document sha256\0' > signed.bin
openssl dgst -sha256 -binary "$PDF" >> signed.bin
printf '%s' "$SIGNATURE" | xxd -r -p > signature.bin
openssl pkeyutl -verify -pubin -inkey dingze-documents.pem -rawin \
  -in signed.bin -sigfile signature.bin
"""


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


async def _wait_for_document(client: PlatformClient, case_id: UUID) -> dict[str, Any]:
    """Poll the officers' document endpoint until the document is issued."""
    url = f"{client.urls.liability}/cases/{case_id}/document"
    for _ in range(300):
        response = await client.http.get(url, headers=client.staff_headers)
        if response.status_code == 200:
            found: dict[str, Any] = response.json()
            return found
        assert response.json()["detail"]["code"] == "document_not_issued"
        await asyncio.sleep(0.2)
    raise AssertionError(f"the document of case {case_id} was never issued")


async def _signed_in(
    client: PlatformClient, account: tuple[str, str]
) -> dict[str, str]:
    response = await client.http.post(
        f"{client.urls.liability}/auth/sign-in",
        json={"username": account[0], "password": account[1]},
    )
    response.raise_for_status()
    return {"authorization": f"Bearer {response.json()['access_token']}"}


async def test_staff_read_case_document(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case_id = await claimed_case(client, video)
    unruled_case = await queued_case(client, video)
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text
    base = client.urls.liability
    supervisor = await _signed_in(client, LOCAL_SUPERVISOR)
    auxiliary = await _signed_in(client, LOCAL_AUXILIARY)

    described = await _wait_for_document(client, case_id)
    pdf = await client.http.get(base + described["pdf_url"], headers=supervisor)
    case_file = await client.open_case_file(case_id)
    anonymous = await client.http.get(f"{base}/cases/{case_id}/document/pdf")
    not_staff = await client.http.get(
        f"{base}/cases/{case_id}/document/pdf", headers=auxiliary
    )
    not_ruled = await client.http.get(
        f"{base}/cases/{unruled_case}/document", headers=client.staff_headers
    )
    unknown = await client.http.get(
        f"{base}/cases/{uuid.uuid4()}/document/pdf", headers=client.staff_headers
    )
    no_version = await client.http.get(
        f"{base}/cases/{case_id}/document/pdf",
        params={"version": 9},
        headers=client.staff_headers,
    )
    audit = await client.http.get(
        f"{base}/audit", params={"case_id": str(case_id)}, headers=supervisor
    )
    records = await DocumentArchive(EvidenceStore(settings)).records(
        described["document_number"]
    )
    code = verification_code(
        load_private_key(settings.document_key_file), described["document_number"]
    )

    assert described["versions"] == [1]
    assert described["sha256"] == records[0].sha256
    assert described["verification_code"] == code
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == described["sha256"]
    assert case_file["ruling_document_number"] == described["document_number"]
    assert case_file["ruling_document_url"] == f"/cases/{case_id}/document/pdf"
    assert case_file["status"] == "ruled"
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"]["code"] == "not_signed_in"
    assert not_staff.status_code == 403
    assert not_staff.json()["detail"]["code"] == "role_required"
    assert not_ruled.status_code == 409
    assert not_ruled.json()["detail"]["code"] == "case_not_ruled"
    assert not_ruled.json()["detail"]["message_zh"]
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "case_not_found"
    assert no_version.status_code == 404
    assert no_version.json()["detail"]["code"] == "document_version_not_found"
    reads = [entry for entry in audit.json() if entry["action"] == "document_read"]
    assert [entry["badge_number"] for entry in reads] == ["330001"]
    assert reads[0]["detail"]["document_number"] == described["document_number"]


def _offline_check(folder: Path, pdf: bytes, signature: str) -> tuple[int, str]:
    (folder / "ruling.pdf").write_bytes(pdf)
    done = subprocess.run(
        ["bash", "-c", OFFLINE_CHECK],
        cwd=folder,
        env={"PDF": "ruling.pdf", "SIGNATURE": signature, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.returncode, done.stdout + done.stderr


async def test_signature_checks_offline(
    client: PlatformClient,
    temporal: Client,
    settings: PlatformSettings,
    video: Path,
    tmp_path: Path,
) -> None:
    document, pdf = await _issued_document(client, temporal, settings, video)
    code = verification_code(
        load_private_key(settings.document_key_file), document.document_number
    )
    served = await client.http.get(f"{client.urls.liability}/documents/public-key")
    (tmp_path / "dingze-documents.pem").write_bytes(served.content)
    answer = await _verify_pdf(client, document.document_number, code, pdf)
    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 0x01

    genuine_status, genuine_output = _offline_check(tmp_path, pdf, answer["signature"])
    altered_status, altered_output = _offline_check(
        tmp_path, bytes(tampered), answer["signature"]
    )
    fingerprint = _key_fingerprint(tmp_path)

    assert served.status_code == 200
    assert served.headers["content-type"] == "application/x-pem-file"
    assert served.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert served.headers["dingze-key-id"] == document.key_id
    assert answer["signature"] == document.signature
    assert answer["key_id"] == document.key_id
    assert answer["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert genuine_status == 0, genuine_output
    assert "Signature Verified Successfully" in genuine_output
    assert altered_status != 0, altered_output
    assert "Signature Verification Failure" in altered_output
    # The key id is the first 16 hex digits of the raw key's SHA-256.
    assert fingerprint[:16] == document.key_id
    assert key_id(_served_key(served.content)) == document.key_id


def _key_fingerprint(folder: Path) -> str:
    """Hash the raw key in the served PEM with OpenSSL, as the README shows."""
    return subprocess.run(
        "openssl pkey -pubin -in dingze-documents.pem -outform DER | tail -c 32"
        " | openssl dgst -sha256 -r",
        shell=True,
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def _served_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    return key


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
