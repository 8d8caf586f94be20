"""Paperless settlement against the running services: the settlement API's
refusals, and each payee account reaching its own claim's insurer alone.

The tests play both insurers through insurance's signed HTTP endpoint, so they
decide when each claim is opened, assessed, settled or refused.
"""

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from common.sealing import Purpose, lookup_hash
from common.settings import PlatformSettings
from contracts.events import (
    ClaimAssessed,
    ClaimOpened,
    ClaimRefused,
    ClaimSettled,
    InsurerSettlementConfirmed,
)
from contracts.settlement import SettlementState
from contracts.webhooks import TOPIC_HEADER
from contracts.workflow import (
    SETTLEMENT_QUERY,
    TIMELINE_QUERY,
    CaseTimeline,
    case_workflow_id,
)
from demo.client import PlatformClient, sample_case, sample_ruling
from demo.party import PartyPhone, PartySession
from identity.party_access import PartyTokens
from services.intake.settings import IntakeSettings
from tests.support.cases import case_outcome, claimed_case
from tests.support.insurers import (
    HAND_PLAYED_INSURERS,
    SignedInsurer,
    case_records,
    registry_command,
    signed_insurer,
    wait_for_insurance_row,
)
from tests.support.phone import access_code, link_token, wait_for_sms
from tests.support.platform import PlatformProcesses
from tests.support.webhook_receiver import WebhookReceiver, receiving

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PHONES = {
    chr(ord("A") + index): party["phone"]
    for index, party in enumerate(sample_case()["parties"])
}
WAIT_SECONDS = 60.0


def _account_number() -> str:
    """Return a 16-digit account number that no other test run uses."""
    return "6214" + "".join(str(secrets.randbelow(10)) for _ in range(12))


T = TypeVar("T")


async def _until(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str
) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        value = await read()
        if done(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen in {WAIT_SECONDS} s")
        await asyncio.sleep(0.2)


async def _state(temporal: Client, case_id: UUID) -> SettlementState:
    handle = temporal.get_workflow_handle(case_workflow_id(case_id))
    state: SettlementState = await handle.query(
        SETTLEMENT_QUERY, result_type=SettlementState
    )
    return state


async def _timeline_steps(temporal: Client, case_id: UUID) -> list[tuple[str, str]]:
    handle = temporal.get_workflow_handle(case_workflow_id(case_id))
    timeline = await handle.query(TIMELINE_QUERY, result_type=CaseTimeline)
    return [(entry.step, entry.detail) for entry in timeline.entries]


async def _session_from(
    phone: PartyPhone,
    settings: PlatformSettings,
    case_id: UUID,
    template: str,
    party: str,
) -> PartySession:
    """Sign a party in from the latest text of ``template``, with a fresh code."""
    _, text = await wait_for_sms(
        settings.database_url, case_id, template, PHONES[party]
    )
    link = link_token(text)
    after = await _latest_code(settings, case_id, party)
    sent = await phone.request_code(link)
    assert sent.status_code == 202, sent.text
    _, code_text = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONES[party], after
    )
    return await phone.sign_in(link, access_code(code_text))


async def _latest_code(settings: PlatformSettings, case_id: UUID, party: str) -> int:
    """Return the delivery id of the party's latest code text, or 0."""
    connection = await asyncpg.connect(settings.database_url)
    try:
        found = await connection.fetchval(
            "SELECT max(delivery_id) FROM notify.local_deliveries"
            " WHERE message_id LIKE $1 AND phone_hash = $2",
            f"{case_id}:party_access_code:%",
            lookup_hash(PHONES[party], Purpose.PHONE),
        )
    finally:
        await connection.close()
    return int(found or 0)


def _event_fields(case_id: UUID, insurer: SignedInsurer) -> dict[str, object]:
    return {"case_id": case_id, "insurer_code": insurer.code}


async def _open_claims(
    http: httpx.AsyncClient,
    settings: PlatformSettings,
    case_id: UUID,
    *insurers: SignedInsurer,
) -> None:
    """Open each insurer's claim once insurance sent it the ruling, as insurance
    accepts claim events only then, and wait until insurance relayed the opening.
    """
    database = settings.database_url
    for insurer in insurers:
        await wait_for_insurance_row(database, "notifications", case_id, insurer.code)
        await insurer.post(
            http,
            ClaimOpened(
                **_event_fields(case_id, insurer), claim_number=f"{insurer.code}-1"
            ),
        )
        await wait_for_insurance_row(database, "claims", case_id, insurer.code)


async def _assess(
    http: httpx.AsyncClient,
    case_id: UUID,
    insurer: SignedInsurer,
    party_id: str,
    amount_cents: int,
) -> None:
    await insurer.post(
        http,
        ClaimAssessed(
            **_event_fields(case_id, insurer),
            claim_number=f"{insurer.code}-1",
            amount_cents=amount_cents,
            party_id=party_id,
        ),
    )


def _form(
    claim_number: str, account_number: str, **changes: object
) -> dict[str, object]:
    return {
        "claim_number": claim_number,
        "consent": True,
        "account_holder": "张伟",
        "bank": "中国工商银行",
        "account_number": account_number,
        **changes,
    }


async def test_settlement_refusals(
    client: PlatformClient,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    temporal: Client,
    video: Path,
) -> None:
    x, y = (signed_insurer(platform, code) for code in HAND_PLAYED_INSURERS)
    phone = PartyPhone(client.http, client.urls.intake)
    account = _account_number()
    case_id = await claimed_case(client, video, (x.code, y.code))
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text

    # Claims opened but not yet assessed: party A signs in from the ruling SMS.
    await _open_claims(client.http, settings, case_id, x, y)
    await _until(
        lambda: _state(temporal, case_id),
        lambda state: len(state.claims) == 2,
        "both claims opened",
    )
    a_ruling = await _session_from(phone, settings, case_id, "ruling_issued", "A")
    before = await phone.settlement(a_ruling)
    not_assessed = await phone.confirm(a_ruling, _form(f"{x.code}-1", account))
    unknown = await phone.confirm(a_ruling, _form("NO-SUCH-CLAIM", account))

    # Assessed: each party gets a settlement link and signs in from it.
    await _assess(client.http, case_id, x, "A", 120_000)
    await _assess(client.http, case_id, y, "B", 80_000)
    a = await _session_from(phone, settings, case_id, "settlement_link", "A")
    b = await _session_from(phone, settings, case_id, "settlement_link", "B")
    loaded = await phone.settlement(a)
    other_party_reads = await phone.settlement(b, party_id="A")
    other_party_confirms = await phone.confirm(
        b, _form(f"{x.code}-1", account), party_id="A"
    )
    invalid = await phone.confirm(
        a,
        _form(
            f"{x.code}-1", "6214 83ab 0000", consent=False, bank=" ", account_holder=""
        ),
    )
    too_short = await phone.confirm(a, _form(f"{x.code}-1", "62148301"))
    confirmed = await phone.confirm(a, _form(f"{x.code}-1", account))
    again = await phone.confirm(a, _form(f"{x.code}-1", account))

    # Y refuses B's claim and X settles A's: the case closes with B unconfirmed.
    await y.post(
        client.http,
        ClaimRefused(
            **_event_fields(case_id, y),
            claim_number=f"{y.code}-1",
            reason="保单已失效",
        ),
    )
    await x.post(
        client.http,
        ClaimSettled(
            **_event_fields(case_id, x),
            claim_number=f"{x.code}-1",
            amount_cents=120_000,
        ),
    )
    outcome = await case_outcome(temporal, case_id)
    after_close = await phone.confirm(b, _form(f"{y.code}-1", _account_number()))
    reloaded = await phone.settlement(a)
    _, refused_text = await wait_for_sms(
        settings.database_url, case_id, "claim_refused", PHONES["B"]
    )

    # A settlement link past its lifetime, signed with the services' own secret.
    old = datetime.now(UTC) - timedelta(days=30)
    expired_link = PartyTokens(IntakeSettings().settlement_link_policy()).issue_link(
        case_id, "A", old, purpose="settlement"
    )
    expired = await phone.request_code(expired_link)

    assert before.status_code == 200, before.text
    assert before.json()["claims"] == []
    assert not_assessed.status_code == 409
    assert not_assessed.json()["detail"]["code"] == "claim_not_assessed"
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "claim_not_found"
    assert loaded.status_code == 200, loaded.text
    view = loaded.json()
    assert view["document_number"].startswith("DZ")
    assert [(s["party_id"], s["share"]) for s in view["shares"]] == [
        ("A", 0),
        ("B", 100),
    ]
    assert [c["claim_number"] for c in view["claims"]] == [f"{x.code}-1"]
    assert view["claims"][0]["assessed_cents"] == 120_000
    assert other_party_reads.status_code == 403
    assert other_party_reads.json()["detail"]["code"] == "settlement_not_yours"
    assert other_party_confirms.status_code == 403
    assert other_party_confirms.json()["detail"]["code"] == "settlement_not_yours"
    assert invalid.status_code == 422
    detail = invalid.json()["detail"]
    assert detail["code"] == "settlement_invalid"
    problems = {(item["code"], item["field"]) for item in detail["problems"]}
    assert problems == {
        ("consent_missing", "consent"),
        ("account_holder_missing", "account_holder"),
        ("bank_missing", "bank"),
        ("account_number_invalid", "account_number"),
    }
    assert all(item["message_zh"] for item in detail["problems"])
    assert too_short.status_code == 422
    assert "8 位" in too_short.json()["detail"]["problems"][0]["message_zh"]
    assert confirmed.status_code == 200, confirmed.text
    confirmation = confirmed.json()["claims"][0]["confirmation"]
    assert confirmation["payee"]["account_number_masked"] == "****" + account[-4:]
    assert account not in confirmed.text
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "settlement_already_confirmed"
    assert outcome.outcome == "claim_refused"
    assert after_close.status_code == 409
    assert after_close.json()["detail"]["code"] == "case_closed"
    assert "已关闭" in after_close.json()["detail"]["message_zh"]
    assert reloaded.status_code == 200
    assert reloaded.json()["case_closed"] is True
    assert reloaded.json()["claims"][0]["confirmation"] == confirmation
    assert "拒绝理赔，原因：保单已失效" in refused_text
    assert expired.status_code == 401
    assert expired.json()["detail"]["code"] == "settlement_link_expired"
    assert "理赔确认链接已过期" in expired.json()["detail"]["message_zh"]


async def _received(*receivers: WebhookReceiver) -> list[tuple[str, bytes]]:
    return [item for receiver in receivers for item in _bodies(receiver)]


def _bodies(receiver: WebhookReceiver) -> list[tuple[str, bytes]]:
    return [
        (request.headers.get(TOPIC_HEADER.lower(), ""), request.body)
        for request in receiver.requests
    ]


async def test_payee_account_reaches_only_its_insurer(
    client: PlatformClient,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    temporal: Client,
    video: Path,
) -> None:
    phone = PartyPhone(client.http, client.urls.intake)
    accounts = {"A": _account_number(), "B": _account_number()}
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    cert = (platform.log_dir / "webhook-cert.pem", platform.log_dir / "webhook-key.pem")
    with receiving(0, *cert) as x_hook, receiving(0, *cert) as y_hook:
        try:
            x = signed_insurer(platform, HAND_PLAYED_INSURERS[0], x_hook.url)
            y = signed_insurer(platform, HAND_PLAYED_INSURERS[1], y_hook.url)
            case_id = await claimed_case(client, video, (x.code, y.code))
            ruled = await client.rule(case_id, sample_ruling())
            assert ruled.status_code == 200, ruled.text
            await _open_claims(client.http, settings, case_id, x, y)
            await _assess(client.http, case_id, x, "A", 60_000)
            await _assess(client.http, case_id, y, "B", 140_000)

            # Each party confirms its own claim with its own account.
            for party, insurer in (("A", x), ("B", y)):
                session = await _session_from(
                    phone, settings, case_id, "settlement_link", party
                )
                confirmed = await phone.confirm(
                    session, _form(f"{insurer.code}-1", accounts[party])
                )
                assert confirmed.status_code == 200, confirmed.text
            steps = await _until(
                lambda: _timeline_steps(temporal, case_id),
                lambda found: [s for s, _ in found].count("settlement confirmed") == 2,
                "both confirmations in the timeline",
            )
            await _until(
                lambda: _received(x_hook, y_hook),
                lambda found: (
                    sum(topic.endswith(".settlements") for topic, _ in found) == 2
                ),
                "both webhooks delivered",
            )
            for insurer in (x, y):
                await insurer.post(
                    client.http,
                    ClaimSettled(
                        **_event_fields(case_id, insurer),
                        claim_number=f"{insurer.code}-1",
                        amount_cents=100,
                    ),
                )
            outcome = await case_outcome(temporal, case_id)
        finally:
            # The next test plays these insurers without webhooks.
            for code in HAND_PLAYED_INSURERS:
                registry_command(platform, "set-webhook", code)

    x_records = await case_records(
        settings.kafka_bootstrap,
        prefix + InsurerSettlementConfirmed.topic_for(x.code),
        case_id,
    )
    y_records = await case_records(
        settings.kafka_bootstrap,
        prefix + InsurerSettlementConfirmed.topic_for(y.code),
        case_id,
    )
    history = (
        await temporal.get_workflow_handle(case_workflow_id(case_id)).fetch_history()
    ).to_json()
    messages = json.dumps(await client.messages(case_id), ensure_ascii=False)
    logs = {name: platform.log_text(name) for name in platform.log_names()}

    assert outcome.outcome == "settled"
    for own, hook, records, other in (
        ("A", x_hook, x_records, "B"),
        ("B", y_hook, y_records, "A"),
    ):
        settlements = [body for topic, body in _bodies(hook) if "settlements" in topic]
        assert len(settlements) == 1
        delivered = InsurerSettlementConfirmed.model_validate_json(settlements[0])
        assert delivered.party_id == own
        assert delivered.payee.account_number == accounts[own]
        assert [
            InsurerSettlementConfirmed.model_validate_json(r).party_id for r in records
        ] == [own]
        assert accounts[own].encode() in records[0]
        for _, body in _bodies(hook):
            assert accounts[other].encode() not in body
        for record in records:
            assert accounts[other].encode() not in record
    for party, account in accounts.items():
        assert (
            "settlement confirmed",
            f"{(x if party == 'A' else y).code} "
            f"{(x if party == 'A' else y).code}-1 by party {party}, payee "
            f"中国工商银行 ****{account[-4:]}",
        ) in steps
        assert account not in history
        assert account not in messages
        for name, text in logs.items():
            assert account not in text, f"{name} logged account {account} unmasked"
