"""Roles on liability endpoints, claims as leases, reassignment and the audit log."""

from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from common.db import create_pool
from common.settings import PlatformSettings
from contracts.events import CaseEscalated
from demo.client import LOCAL_SUPERVISOR, PlatformClient, sample_ruling
from tests.support.cases import queued_case
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def _signed_in(platform: PlatformProcesses, username: str) -> PlatformClient:
    client = PlatformClient(platform.urls, httpx.AsyncClient(timeout=60))
    await client.sign_in(username, f"{username}-local")
    return client


async def _expire_lease(settings: PlatformSettings, case_id: UUID) -> None:
    """Move the lease's end into the past, as an officer gone idle would leave it."""
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "UPDATE liability.cases SET lease_expires_at = now() - interval '1 second'"
            " WHERE case_id = $1",
            case_id,
        )
    finally:
        await connection.close()


async def test_each_endpoint_checks_the_role(
    client: PlatformClient, platform: PlatformProcesses, video: Path
) -> None:
    case_id = await queued_case(client, video)
    base = platform.urls.liability
    auxiliary = await _signed_in(platform, "auxiliary")
    supervisor = await _signed_in(platform, "supervisor")
    anonymous = httpx.AsyncClient(timeout=60)
    calls = [
        ("GET", "/cases", None),
        ("GET", f"/cases/{case_id}", None),
        ("POST", f"/cases/{case_id}/claim", None),
        ("POST", f"/cases/{case_id}/claim/renew", None),
        ("DELETE", f"/cases/{case_id}/claim", None),
        ("POST", f"/cases/{case_id}/ruling", sample_ruling()),
        ("POST", f"/cases/{case_id}/reassign", {"officer_badge": "330102"}),
        ("PUT", f"/cases/{case_id}/priority", {"urgent": True}),
        ("GET", "/supervisor/overdue", None),
        ("GET", "/audit", None),
    ]

    unsigned = {
        path: (await anonymous.request(method, base + path, json=body)).status_code
        for method, path, body in calls
    }
    as_auxiliary = {
        path: (
            await auxiliary.http.request(
                method, base + path, json=body, headers=auxiliary.staff_headers
            )
        ).status_code
        for method, path, body in calls
    }
    supervisor_rules = await supervisor.rule(case_id, sample_ruling())
    officer_reads_audit = await client.http.get(
        f"{base}/audit", headers=client.staff_headers
    )
    for other in (auxiliary, supervisor):
        await other.http.aclose()
    await anonymous.aclose()

    assert set(unsigned.values()) == {401}, unsigned
    assert set(as_auxiliary.values()) == {403}, as_auxiliary
    assert supervisor_rules.status_code == 403
    assert supervisor_rules.json()["detail"]["code"] == "role_required"
    assert officer_reads_audit.status_code == 403


async def test_claimed_case_is_hidden_from_others(
    client: PlatformClient, other_officer: PlatformClient, video: Path
) -> None:
    case_id = await queued_case(client, video)

    claimed = await client.claim(case_id)
    mine = {item["case_id"]: item for item in await client.queue()}
    theirs = {item["case_id"] for item in await other_officer.queue()}
    taken = await other_officer.claim(case_id)
    other_rules = await other_officer.rule(
        case_id, {**sample_ruling(), "officer_id": ""}
    )

    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"] == "330102"
    assert mine[str(case_id)]["claimed_by_me"] is True
    assert str(case_id) not in theirs
    assert taken.status_code == 409
    assert taken.json()["detail"]["code"] == "case_claimed_by_other"
    assert other_rules.status_code == 409
    assert other_rules.json()["detail"]["code"] == "case_claimed_by_other"


async def test_expired_lease_returns_case_to_queue(
    client: PlatformClient,
    other_officer: PlatformClient,
    settings: PlatformSettings,
    video: Path,
) -> None:
    case_id = await queued_case(client, video)
    await client.claim(case_id)
    await _expire_lease(settings, case_id)

    queue = {item["case_id"] for item in await other_officer.queue()}
    renewed = await client.renew(case_id)
    stale_ruling = await client.rule(case_id, sample_ruling())
    taken = await other_officer.claim(case_id)
    ruled = await other_officer.rule(case_id, {**sample_ruling(), "officer_id": ""})

    assert str(case_id) in queue
    assert renewed.status_code == 409
    assert renewed.json()["detail"]["code"] == "case_not_claimed"
    assert stale_ruling.status_code == 409
    assert stale_ruling.json()["detail"]["code"] == "case_not_claimed"
    assert taken.status_code == 200
    assert ruled.status_code == 200, ruled.text


async def test_released_case_can_be_claimed_again(
    client: PlatformClient, other_officer: PlatformClient, video: Path
) -> None:
    case_id = await queued_case(client, video)
    await client.claim(case_id)

    released = await client.release(case_id)
    taken = await other_officer.claim(case_id)
    released_twice = await client.release(case_id)

    assert released.status_code == 204
    assert taken.status_code == 200
    assert released_twice.status_code == 409


async def test_supervisor_reassigns_claimed_case(
    client: PlatformClient,
    other_officer: PlatformClient,
    platform: PlatformProcesses,
    video: Path,
) -> None:
    case_id = await queued_case(client, video)
    await client.claim(case_id)
    supervisor = await _signed_in(platform, LOCAL_SUPERVISOR[0])

    moved = await supervisor.http.post(
        f"{platform.urls.liability}/cases/{case_id}/reassign",
        json={"officer_badge": "330199"},
        headers=supervisor.staff_headers,
    )
    first_rules = await client.rule(case_id, sample_ruling())
    second_rules = await other_officer.rule(
        case_id, {**sample_ruling(), "officer_id": ""}
    )
    audit = await supervisor.http.get(
        f"{platform.urls.liability}/audit",
        params={"case_id": str(case_id)},
        headers=supervisor.staff_headers,
    )
    await supervisor.http.aclose()

    assert moved.status_code == 200, moved.text
    assert moved.json()["claimed_by"] == "330199"
    assert first_rules.status_code == 409
    assert second_rules.status_code == 200, second_rules.text
    actions = [(entry["action"], entry["outcome"]) for entry in audit.json()]
    assert actions[0] == ("ruling", "done")
    assert ("reassign", "done") in actions
    assert ("ruling", "rejected") in actions
    assert ("claim", "done") in actions
    reassign = next(entry for entry in audit.json() if entry["action"] == "reassign")
    assert reassign["badge_number"] == "330001"
    assert reassign["detail"] == {"to": "330199", "from": "330102"}


async def test_ruling_problems_are_listed_by_field(
    client: PlatformClient, video: Path
) -> None:
    case_id = await queued_case(client, video)
    await client.claim(case_id)
    ruling = sample_ruling()
    ruling["facts"] = ""
    ruling["liabilities"] = [
        {"party_id": "A", "category": "none", "share": 10},
        {"party_id": "B", "category": "full", "share": 100},
    ]

    response = await client.rule(case_id, ruling)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "ruling_rejected"
    problems = {(item["code"], item["field"]) for item in detail["problems"]}
    assert ("facts_missing", "facts") in problems
    assert ("none_needs_0", "liabilities") in problems
    assert ("shares_not_100", "liabilities") in problems
    assert all(item["message_zh"] for item in detail["problems"])


async def test_escalated_case_heads_queue_and_alerts(
    client: PlatformClient,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    video: Path,
) -> None:
    first = await queued_case(client, video)
    second = await queued_case(client, video)
    supervisor = await _signed_in(platform, LOCAL_SUPERVISOR[0])
    found = await client.open_case_file(second)
    event = CaseEscalated(
        case_id=second,
        target_minutes=30,
        queued_at=found["case"]["occurred_at"],
        claimed_by=None,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"] + CaseEscalated.topic
        await producer.send_and_wait(
            topic, event.model_dump_json().encode(), key=str(second).encode()
        )
    finally:
        await producer.stop()

    overdue = await supervisor.wait_for_overdue(second)
    queue = [item["case_id"] for item in await client.queue()]
    await supervisor.http.aclose()

    assert overdue["target_minutes"] == 30
    assert overdue["status"] == "queued"
    assert queue.index(str(second)) < queue.index(str(first))
    assert next(
        item for item in await client.queue() if item["case_id"] == str(second)
    )["escalated"]


async def test_audit_log_rejects_changes(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case_id = await queued_case(client, video)
    await client.claim(case_id)
    changes = [
        "UPDATE audit_log SET outcome = 'rejected' WHERE case_id = $1",
        "DELETE FROM audit_log WHERE case_id = $1",
    ]
    service = await create_pool(settings.database_url, "liability", max_size=1)
    # The schema's owner, which the triggers stop as well.
    owner = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": "liability"}
    )
    try:
        entries = await service.fetchval(
            "SELECT count(*) FROM audit_log WHERE case_id = $1", case_id
        )
        for sql in changes:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await service.execute(sql, case_id)
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await owner.execute(sql, case_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("TRUNCATE audit_log")
        after = await service.fetchval(
            "SELECT count(*) FROM audit_log WHERE case_id = $1", case_id
        )
    finally:
        await service.close()
        await owner.close()

    assert entries >= 2
    assert after == entries


async def test_sign_ins_are_audited(platform: PlatformProcesses) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        wrong = await http.post(
            f"{platform.urls.liability}/auth/sign-in",
            json={"username": "officer2", "password": "not-the-password"},
        )
    supervisor = await _signed_in(platform, LOCAL_SUPERVISOR[0])

    audit = await supervisor.http.get(
        f"{platform.urls.liability}/audit",
        params={"limit": 1000},
        headers=supervisor.staff_headers,
    )
    await supervisor.http.aclose()

    assert wrong.status_code == 401
    sign_ins = [
        (entry["subject"], entry["outcome"])
        for entry in audit.json()
        if entry["action"] == "sign_in"
    ]
    assert ("officer2", "rejected") in sign_ins
    assert ("supervisor", "done") in sign_ins


async def test_urgent_case_heads_queue(
    client: PlatformClient, platform: PlatformProcesses, video: Path
) -> None:
    first = await queued_case(client, video)
    second = await queued_case(client, video)
    supervisor = await _signed_in(platform, LOCAL_SUPERVISOR[0])
    priority = f"{platform.urls.liability}/cases/{second}/priority"

    marked = await supervisor.http.put(
        priority, json={"urgent": True}, headers=supervisor.staff_headers
    )
    urgent_queue = [item["case_id"] for item in await client.queue()]
    cleared = await supervisor.http.put(
        priority, json={"urgent": False}, headers=supervisor.staff_headers
    )
    plain_queue = [item["case_id"] for item in await client.queue()]
    await supervisor.http.aclose()

    assert marked.status_code == 200, marked.text
    assert urgent_queue.index(str(second)) < urgent_queue.index(str(first))
    assert cleared.status_code == 200
    assert plain_queue.index(str(first)) < plain_queue.index(str(second))
