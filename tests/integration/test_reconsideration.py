"""Acknowledgement, refusal and reconsideration of a real case's ruling, from the
parties' phones through the SMS link and one-time code to a second officer.
"""

import asyncio
import hashlib
import io
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader
from temporalio.client import Client

from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.events import InsurerNotification
from contracts.review import ReviewOutcome, review_workflow_id
from demo.client import PlatformClient, sample_case, sample_ruling
from documents.archive import DocumentArchive
from documents.keys import load_private_key, verification_code
from tests.support.cases import case_outcome, claimed_case
from tests.support.insurers import case_records
from tests.support.phone import access_code, link_token, wait_for_sms
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PHONES = {
    chr(ord("A") + index): party["phone"]
    for index, party in enumerate(sample_case()["parties"])
}
# The badge of the other_officer fixture's account in the local staff file.
SECOND_OFFICER = "330199"


async def _party_session(
    client: PlatformClient, settings: PlatformSettings, case_id: UUID, party: str
) -> dict[str, str]:
    """Sign a party in as the phone does: the ruling SMS link, then a code."""
    _, ruling_sms = await wait_for_sms(
        settings.database_url, case_id, "ruling_issued", PHONES[party]
    )
    link = link_token(ruling_sms)
    sent = await client.http.post(
        f"{client.urls.intake}/access/code", json={"link_token": link}
    )
    assert sent.status_code == 202, sent.text
    _, code_sms = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONES[party]
    )
    session = await client.http.post(
        f"{client.urls.intake}/access/session",
        json={"link_token": link, "code": access_code(code_sms)},
    )
    assert session.status_code == 200, session.text
    return {"authorization": f"Bearer {session.json()['session_token']}"}


async def _verify(
    client: PlatformClient, settings: PlatformSettings, number: str, pdf: bytes
) -> dict[str, Any]:
    code = verification_code(load_private_key(settings.document_key_file), number)
    response = await client.http.post(
        f"{client.urls.liability}/documents/verify",
        json={
            "document_number": number,
            "code": code,
            "sha256": hashlib.sha256(pdf).hexdigest(),
        },
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _wait_for_reconsideration_queue(
    client: PlatformClient, case_id: UUID
) -> list[dict[str, Any]]:
    for _ in range(150):
        response = await client.http.get(
            f"{client.urls.liability}/reconsiderations", headers=client.staff_headers
        )
        queued: list[dict[str, Any]] = response.json()
        if str(case_id) in {item["case_id"] for item in queued}:
            return queued
        await asyncio.sleep(0.2)
    raise AssertionError(f"case {case_id} never reached the reconsideration queue")


async def _insurer_notifications(
    settings: PlatformSettings,
    platform: PlatformProcesses,
    insurer_code: str,
    case_id: UUID,
) -> list[InsurerNotification]:
    """Wait for the first ruling and its replacement on an insurer's topic."""
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    topic = f"{prefix}{InsurerNotification.topic_for(insurer_code)}"
    records: list[bytes] = []
    for _ in range(60):
        records = await case_records(settings.kafka_bootstrap, topic, case_id)
        if len(records) >= 2:
            break
        await asyncio.sleep(0.5)
    return [InsurerNotification.model_validate_json(record) for record in records]


def _pdf_text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join(page.extract_text() for page in pages).replace("\n", "")


async def test_refusal_and_reconsideration(
    client: PlatformClient,
    other_officer: PlatformClient,
    temporal: Client,
    settings: PlatformSettings,
    platform: PlatformProcesses,
    video: Path,
) -> None:
    case_id = await claimed_case(client, video)
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text
    case = await case_outcome(temporal, case_id)
    party_a = await _party_session(client, settings, case_id, "A")
    party_b = await _party_session(client, settings, case_id, "B")
    ruling_url = f"{client.urls.intake}/cases/{case_id}/ruling"

    acknowledged = await client.http.post(
        f"{ruling_url}/answer", json={"answer": "acknowledged"}, headers=party_a
    )
    refused = await client.http.post(
        f"{ruling_url}/answer",
        json={"answer": "refused", "reason": "前车急刹在先"},
        headers=party_b,
    )
    refused_document = await client.http.get(f"{ruling_url}/document", headers=party_b)
    requested = await client.http.post(
        f"{ruling_url}/reconsideration",
        json={"reason": "对方急刹，责任划分不当。"},
        headers=party_b,
    )
    requested_again = await client.http.post(
        f"{ruling_url}/reconsideration",
        json={"reason": "我也申请复核。"},
        headers=party_a,
    )
    queued = await _wait_for_reconsideration_queue(other_officer, case_id)
    first_officer_list = await client.http.get(
        f"{client.urls.liability}/reconsiderations", headers=client.staff_headers
    )
    first_officer_file = await client.http.get(
        f"{client.urls.liability}/reconsiderations/{case_id}",
        headers=client.staff_headers,
    )
    second_officer_file = await other_officer.http.get(
        f"{client.urls.liability}/reconsiderations/{case_id}",
        headers=other_officer.staff_headers,
    )
    decision_url = f"{client.urls.liability}/reconsiderations/{case_id}/decision"
    same_officer = await client.http.post(
        decision_url,
        json={
            "officer_id": sample_ruling()["officer_id"],
            "outcome": "confirmed",
            "reason": "维持。",
        },
        headers=client.staff_headers,
    )
    borrowed_badge = await client.http.post(
        decision_url,
        json={"officer_id": SECOND_OFFICER, "outcome": "confirmed", "reason": "维持。"},
        headers=client.staff_headers,
    )
    replacement = {
        **sample_ruling(),
        "officer_id": SECOND_OFFICER,
        "departure_reason": "甲车无故急刹，视频可见。",
        "liabilities": [
            {"party_id": "A", "category": "secondary", "share": 30},
            {"party_id": "B", "category": "primary", "share": 70},
        ],
    }
    decided = await other_officer.http.post(
        decision_url,
        headers=other_officer.staff_headers,
        json={
            "officer_id": SECOND_OFFICER,
            "outcome": "replaced",
            "reason": "甲车无故急刹，应承担次要责任。",
            "ruling": replacement,
        },
    )
    review = await asyncio.wait_for(
        temporal.get_workflow_handle(
            review_workflow_id(case_id), result_type=ReviewOutcome
        ).result(),
        60,
    )
    final_document = await client.http.get(f"{ruling_url}/document", headers=party_a)
    to_picc = await _insurer_notifications(settings, platform, "PICC", case_id)
    to_paic = await _insurer_notifications(settings, platform, "PAIC", case_id)
    archive = DocumentArchive(EvidenceStore(settings))
    first_number = refused.json()["document_number"]
    first_versions = await archive.records(first_number)
    first_pdf = await archive.pdf(first_versions[0])

    assert case.outcome == "settled"
    assert acknowledged.status_code == 200, acknowledged.text
    assert [v["version"] for v in acknowledged.json()["versions"]] == [1]
    assert refused.status_code == 200, refused.text
    assert [v["version"] for v in refused.json()["versions"]] == [1, 2]
    # The refusal is printed on version 2, and both versions verify.
    refusal_text = _pdf_text(refused_document.content)
    assert "当事人乙于" in refusal_text
    assert "拒绝签收，理由：前车急刹在先" in refusal_text
    assert "当事人甲于" in refusal_text
    version_2 = await _verify(client, settings, first_number, refused_document.content)
    version_1 = await _verify(client, settings, first_number, first_pdf)
    assert version_2["genuine"] is True
    assert version_2["version"] == 2
    assert version_1["genuine"] is True
    assert version_1["version"] == 1
    assert version_1["latest_version"] == 2
    assert requested.status_code == 200, requested.text
    assert requested.json()["stage"] == "reconsidering"
    assert requested_again.status_code == 409
    assert requested_again.json()["detail"]["code"] == "ruling_answer_rejected"
    assert next(q for q in queued if q["case_id"] == str(case_id))["party_id"] == "B"
    # The officer who gave the first ruling can neither list, open nor decide it.
    assert first_officer_list.status_code == 200
    assert str(case_id) not in {item["case_id"] for item in first_officer_list.json()}
    assert first_officer_file.status_code == 403
    assert first_officer_file.json()["detail"]["code"] == "same_officer"
    assert first_officer_file.json()["detail"]["message_zh"]
    assert second_officer_file.status_code == 200, second_officer_file.text
    assert second_officer_file.json()["request"]["party_id"] == "B"
    assert same_officer.status_code == 409
    assert same_officer.json()["detail"]["code"] == "same_officer"
    assert borrowed_badge.status_code == 403
    assert decided.status_code == 200, decided.text
    assert review.reconsidered
    assert review.outcome == "replaced"
    assert review.final_document_number == f"{first_number}-F"
    # The reconsideration replaces the ruling, and the first one stays on file.
    final_text = _pdf_text(final_document.content)
    assert "道路交通事故认定复核结论" in final_text
    assert f"原认定书编号：{first_number}" in final_text
    assert "当事人甲承担次要责任（30%）" in final_text
    final_check = await _verify(
        client, settings, review.final_document_number, final_document.content
    )
    assert final_check["genuine"] is True
    assert final_check["kind"] == "reconsideration"
    assert [record.version for record in first_versions] == [1, 2]
    # Each insurer got the first ruling and then the replacement, minimised.
    for notifications, insured in ((to_picc, "A"), (to_paic, "B")):
        replaced = [n.replaces_document_number for n in notifications]
        assert replaced == ["", first_number]
        sent = notifications[1]
        assert sent.document_number == review.final_document_number
        assert sent.ruling.share_of("A") == 30
        assert [p.party_id for p in sent.insured_parties] == [insured]
        assert "13812345678" not in sent.model_dump_json()
        assert "13987654321" not in sent.model_dump_json()
    _, decided_sms = await wait_for_sms(
        settings.database_url, case_id, "reconsideration_decided", PHONES["A"]
    )
    assert review.final_document_number in decided_sms


async def test_other_party_cannot_answer(
    client: PlatformClient, temporal: Client, settings: PlatformSettings, video: Path
) -> None:
    case_id = await claimed_case(client, video)
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text
    await case_outcome(temporal, case_id)
    other_case = await claimed_case(client, video)

    anonymous = await client.http.post(
        f"{client.urls.intake}/cases/{case_id}/ruling/answer",
        json={"answer": "refused"},
    )
    party_a = await _party_session(client, settings, case_id, "A")
    elsewhere = await client.http.get(
        f"{client.urls.intake}/cases/{other_case}/ruling", headers=party_a
    )

    assert anonymous.status_code == 401
    assert elsewhere.status_code == 403
