"""Personal numbers stay out of the logs, the tables and the workflow history.

A case runs through every real process to a settled claim with phone numbers, an
identity card number and a payee account that no other test uses, so any copy of
them found afterwards came from this case.
"""

import json
import secrets
import uuid
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from temporalio.client import Client

from common.db import create_pool
from common.seal_existing import seal_existing_rows
from common.sealing import Purpose, is_sealed, lookup_hash
from common.settings import PlatformSettings
from contracts.case import CaseDetails
from contracts.workflow import case_workflow_id
from demo.client import PlatformClient, sample_case, sample_ruling
from demo.party import PartyPhone, confirm_from_link
from services.intake.store import CaseStore
from tests.support.cases import case_outcome
from tests.support.insurers import PAPERLESS_INSURERS
from tests.support.phone import access_code, link_token, wait_for_sms
from tests.support.platform import ROOT, PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
# Column types whose values can hold a number as text.
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")
# The JSON logs of the session's processes and the stack's supervisord logs.
STACK_LOGS = ROOT / ".stack" / "logs"


def _digits(count: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def _mobile_number() -> str:
    return "1" + str(3 + secrets.randbelow(7)) + _digits(9)


def _identity_card_number() -> str:
    """Return an 18-character identity card number ending in the check letter X."""
    return "110105" + "1987" + "0613" + _digits(3) + "X"


def _masked_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def _log_files(platform: PlatformProcesses) -> list[Path]:
    return [*platform.log_dir.glob("*.log"), *STACK_LOGS.glob("*.log")]


async def _rows_containing(database_url: str, value: str) -> list[str]:
    """Return ``schema.table.column`` of every text or JSON cell containing value."""
    connection = await asyncpg.connect(database_url)
    try:
        columns = await connection.fetch(
            "SELECT table_schema, table_name, column_name"
            " FROM information_schema.columns"
            " JOIN information_schema.tables USING (table_schema, table_name)"
            " WHERE table_type = 'BASE TABLE' AND data_type = ANY($1::text[])"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')",
            list(TEXT_TYPES),
        )
        found = []
        for column in columns:
            name = (
                f'"{column["table_schema"]}"."{column["table_name"]}"'
                f'."{column["column_name"]}"'
            )
            table = f'"{column["table_schema"]}"."{column["table_name"]}"'
            hits = await connection.fetchval(
                f'SELECT count(*) FROM {table} WHERE "{column["column_name"]}"::text'
                " LIKE '%' || $1 || '%'",
                value,
            )
            if hits:
                found.append(name)
    finally:
        await connection.close()
    return found


async def _settle_case(
    client: PlatformClient,
    temporal: Client,
    settings: PlatformSettings,
    video: Path,
    case: dict[str, object],
    account_number: str,
) -> UUID:
    """Take the case from the scene to settled claims, B confirming its payee."""
    case_id = await client.open_case(case)
    uploaded = await client.upload_video(case_id, video)
    assert uploaded.status_code == 200, uploaded.text
    submitted = await client.submit(case_id)
    assert submitted.status_code == 200, submitted.text
    await client.wait_until_queued(case_id)
    claimed = await client.claim(case_id)
    assert claimed.status_code == 200, claimed.text
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text

    phone_b = case["parties"][1]["phone"]  # type: ignore[index]
    _, link_text = await wait_for_sms(
        settings.database_url, case_id, "settlement_link", phone_b
    )

    async def read_code() -> str:
        _, text = await wait_for_sms(
            settings.database_url, case_id, "party_access_code", phone_b
        )
        return access_code(text)

    payee = {
        "account_holder": "李娜",
        "bank": "中国建设银行",
        "account_number": account_number,
    }
    phone = PartyPhone(client.http, client.urls.intake)
    await confirm_from_link(phone, link_token(link_text), read_code, payee)
    outcome = await case_outcome(temporal, case_id)
    assert outcome.outcome == "settled"
    # The closing texts go out after the workflow ends.
    await client.messages_after(case_id, "claim_settled", 2)
    return case_id


async def test_settled_case_leaves_no_plain_numbers(
    client: PlatformClient,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    temporal: Client,
    video: Path,
) -> None:
    phones = [_mobile_number(), _mobile_number()]
    identity_number = _identity_card_number()
    account_number = "6217" + _digits(15)
    case = sample_case(PAPERLESS_INSURERS)
    for party, phone in zip(case["parties"], phones, strict=True):
        party["phone"] = phone
    case["description"] = f"B 车追尾 A 车。A 方驾驶人身份证号 {identity_number}。"
    numbers = [*phones, identity_number, account_number]
    # Free text is stored as typed (liability's queue keeps the description), so
    # the identity card number is looked for in the logs and the history only.
    stored_numbers = [*phones, account_number]

    case_id = await _settle_case(
        client, temporal, settings, video, case, account_number
    )
    logs = {path: path.read_text(errors="replace") for path in _log_files(platform)}
    notify_log = platform.log_text("notify")
    history = (
        await temporal.get_workflow_handle(case_workflow_id(case_id)).fetch_history()
    ).to_json()
    connection = await asyncpg.connect(settings.database_url)
    try:
        stored = await connection.fetch(
            "SELECT phone, phone_hash FROM notify.messages WHERE case_id = $1",
            case_id,
        )
    finally:
        await connection.close()
    cells = {
        number: await _rows_containing(settings.database_url, number)
        for number in stored_numbers
    }

    for path, text in logs.items():
        for number in numbers:
            assert number not in text, f"{path} contains {number} unmasked"
    for phone in phones:
        assert _masked_phone(phone) in notify_log
    for number in numbers:
        assert number not in history
    for number in stored_numbers:
        assert cells[number] == [], f"{number} stored in plain text in {cells[number]}"
    assert json.loads(history)["events"]
    assert "YmluYXJ5L2VuY3J5cHRlZA==" in history  # "binary/encrypted" in base64
    assert stored
    assert all(is_sealed(row["phone"]) for row in stored)
    assert {row["phone_hash"] for row in stored} == {
        lookup_hash(phone, Purpose.PHONE) for phone in phones
    }


async def test_migration_seals_rows_from_before(
    settings: PlatformSettings,
) -> None:
    case_id = uuid.uuid4()
    phone = _mobile_number()
    account_number = "6222" + _digits(15)
    secret = secrets.token_hex(32)
    code = f"PD{uuid.uuid4().hex[:8].upper()}"
    details = sample_case()
    details.pop("eligibility")
    details["case_id"] = str(case_id)
    details["parties"] = [
        {**party, "phone": phone, "party_id": letter}
        for party, letter in zip(details["parties"], "AB", strict=True)
    ]
    connection = await asyncpg.connect(settings.database_url)
    try:
        # Rows as the services wrote them before personal data was sealed.
        await connection.execute(
            "INSERT INTO intake.cases (case_id, status, details, trace_id)"
            " VALUES ($1, 'draft', $2::jsonb, 'trace')",
            case_id,
            json.dumps(details),
        )
        await connection.execute(
            "INSERT INTO intake.outbox (event_id, topic, message_key, payload,"
            " sent_at) VALUES ($1, 'old.topic', $2, $3, now())",
            uuid.uuid4(),
            str(case_id),
            json.dumps({"phone": phone}),
        )
        await connection.execute(
            "INSERT INTO notify.messages (message_id, case_id, party_id, phone,"
            " template, body, provider, status, sent_at)"
            " VALUES ($1, $2, 'A', $3, 'case_link', 'body', 'local', 'sent', now())",
            f"{case_id}:case_link:A",
            case_id,
            phone,
        )
        await connection.execute(
            "INSERT INTO notify.local_deliveries (message_id, phone, body)"
            " VALUES ($1, $2, 'body')",
            f"{case_id}:case_link:A",
            phone,
        )
        await connection.execute(
            "INSERT INTO insurance.insurers (code, name, topic, signing_secret)"
            " VALUES ($1, 'test insurer', 'insurer.test.notifications', $2)",
            code,
            secret,
        )
        await connection.execute(
            "INSERT INTO insurance.webhook_dead_letters (delivery_id, event_id,"
            " insurer_code, case_id, payload, topic, attempts, created_at)"
            " VALUES (-1 * (random() * 1e9)::bigint, $1, $2, $3, $4, 't', 4, now())",
            uuid.uuid4(),
            code,
            case_id,
            json.dumps({"account_number": account_number}),
        )

        first = await seal_existing_rows(settings.database_url)
        second = await seal_existing_rows(settings.database_url)
        message = await connection.fetchrow(
            "SELECT phone, phone_hash FROM notify.messages WHERE case_id = $1",
            case_id,
        )
        delivery = await connection.fetchrow(
            "SELECT phone, phone_hash FROM notify.local_deliveries"
            " WHERE message_id = $1",
            f"{case_id}:case_link:A",
        )
        stored_secret = await connection.fetchval(
            "SELECT signing_secret FROM insurance.insurers WHERE code = $1", code
        )
        stored_details = await connection.fetchval(
            "SELECT details #>> '{}' FROM intake.cases WHERE case_id = $1", case_id
        )
    finally:
        await connection.close()
    cells = {
        number: await _rows_containing(settings.database_url, number)
        for number in (phone, account_number, secret)
    }
    read_back = await _read_case(settings, case_id)
    assert message is not None
    assert delivery is not None

    assert first["intake.cases.details"] >= 1
    assert first["notify phone numbers"] >= 2
    assert first["outbox payloads"] >= 1
    assert first["insurance webhooks"] >= 2
    assert set(second.values()) == {0}
    assert is_sealed(stored_details)
    assert is_sealed(message["phone"])
    assert message["phone_hash"] == lookup_hash(phone, Purpose.PHONE)
    assert is_sealed(delivery["phone"])
    assert delivery["phone_hash"] == lookup_hash(phone, Purpose.PHONE)
    assert is_sealed(stored_secret)
    for number, found in cells.items():
        assert found == [], f"{number} still in plain text in {found}"
    assert [party.phone for party in read_back.parties] == [phone, phone]


async def _read_case(settings: PlatformSettings, case_id: UUID) -> CaseDetails:
    pool = await create_pool(settings.database_url, "intake", max_size=1)
    try:
        stored = await CaseStore(pool, settings).get(case_id)
    finally:
        await pool.close()
    assert stored is not None
    return stored.details
