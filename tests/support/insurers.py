"""Ruled cases sent straight to insurance, and what insurers find on their topics."""

import asyncio
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.case import Location
from contracts.events import CaseRuled, Event, PartySummary
from contracts.insurers import KNOWN_INSURERS
from contracts.ruling import Ruling
from contracts.webhooks import SIGNATURE_HEADER, sign
from demo.client import sample_ruling
from tests.support.platform import ROOT, PlatformProcesses

# How the test session's simulator plays the known insurers: the sample case's
# insurers settle at once, two more wait for the party's confirmation, and the
# tests play the last two themselves through insurance's signed HTTP endpoint.
IMMEDIATE_INSURERS = ("PICC", "PAIC")
PAPERLESS_INSURERS = ("CPIC", "CLPC")
HAND_PLAYED_INSURERS = ("TPIC", "SSAI")
SIMULATED_INSURERS = tuple(
    code for code in KNOWN_INSURERS if code not in HAND_PLAYED_INSURERS
)


def register_insurer(platform: PlatformProcesses) -> tuple[str, str]:
    """Add a new insurer to the registry with the command; return code and secret."""
    code = f"HT{uuid.uuid4().hex[:8].upper()}"
    added = subprocess.run(
        [sys.executable, "-m", "services.insurance.cli", "add", code, "测试保险"],
        cwd=ROOT,
        env=platform.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return code, added.stdout.rsplit(": ", 1)[1].strip()


def ruled_event(case_id: UUID, insurers: tuple[str, str]) -> CaseRuled:
    """Return a ruling on two parties, A insured by the first insurer, B the second."""
    parties = [
        PartySummary(
            party_id=party_id,
            name=name,
            plate=plate,
            insurer_code=insurer,
            policy_number=policy,
        )
        for party_id, name, plate, insurer, policy in (
            ("A", "张伟", "浙A12345", insurers[0], "PDAA2026330100001234"),
            ("B", "李娜", "浙B67890", insurers[1], "ADZH2026330200005678"),
        )
    ]
    return CaseRuled(
        case_id=case_id,
        accident_at=datetime.now(UTC),
        location=Location(latitude=30.27, longitude=120.15, address="杭州市文三路"),
        parties=parties,
        ruling=Ruling.model_validate(sample_ruling()),
    )


async def send_event(bootstrap: str, topic: str, event: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, event.model_dump_json().encode(), key=str(event.case_id).encode()
        )
    finally:
        await producer.stop()


async def case_records(bootstrap: str, topic: str, case_id: UUID) -> list[bytes]:
    """Read a topic from its start and return the values keyed by the case."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        while batches:
            for records in batches.values():
                found += [
                    record.value
                    for record in records
                    if record.key == str(case_id).encode()
                ]
            batches = await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()
    return found


def registry_command(platform: PlatformProcesses, *args: str) -> str:
    """Run the insurer registry command on the session's database; return stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "services.insurance.cli", *args],
        cwd=ROOT,
        env=platform.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


@dataclass(frozen=True)
class SignedInsurer:
    """An insurer that posts its claim events to insurance's signed HTTP endpoint."""

    code: str
    secret: str
    insurance_url: str

    async def post(self, http: httpx.AsyncClient, event: Event) -> None:
        body = json.dumps(
            {"topic": event.topic, "event": event.model_dump(mode="json")}
        ).encode()
        response = await http.post(
            f"{self.insurance_url}/insurers/{self.code}/claim-events",
            content=body,
            headers={
                SIGNATURE_HEADER: sign(self.secret, int(time.time()), body),
                "content-type": "application/json",
            },
        )
        assert response.status_code == 202, response.text


def signed_insurer(
    platform: PlatformProcesses, code: str, webhook_url: str | None = None
) -> SignedInsurer:
    """Play a registered insurer: give it a new secret and set or clear its webhook.

    The session's simulator leaves the insurers in ``HAND_PLAYED_INSURERS`` alone.
    """
    rotated = registry_command(platform, "rotate-secret", code)
    registry_command(
        platform, "set-webhook", code, *([webhook_url] if webhook_url else [])
    )
    port = platform.env["DINGZE_INSURANCE_PORT"]
    return SignedInsurer(
        code, rotated.rsplit(": ", 1)[1].strip(), f"http://127.0.0.1:{port}"
    )


async def wait_for_insurance_row(
    database_url: str, table: str, case_id: UUID, insurer_code: str
) -> None:
    """Wait until insurance's ``notifications`` or ``claims`` has the insurer's row.

    A notification row means insurance queued the ruling for that insurer, and a
    claim row that it relayed the insurer's opening of the claim.
    """
    assert table in ("notifications", "claims")
    connection = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 60
        while not await connection.fetchval(
            f"SELECT 1 FROM insurance.{table} WHERE case_id = $1 AND insurer_code = $2",
            case_id,
            insurer_code,
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {table} row of {insurer_code} for {case_id}")
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


def run_registry(
    platform: PlatformProcesses, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the registry command against the session's database."""
    return subprocess.run(
        [sys.executable, "-m", "services.insurance.cli", *args],
        cwd=ROOT,
        env=platform.env,
        capture_output=True,
        text=True,
        check=check,
        timeout=30,
    )


def new_insurer(platform: PlatformProcesses, webhook_url: str) -> tuple[str, str]:
    """Register a fresh insurer with a webhook; return its code and secret."""
    code = f"WH{uuid.uuid4().hex[:8].upper()}"
    added = run_registry(
        platform, "add", code, "测试财产保险", "--webhook-url", webhook_url
    )
    return code, added.stdout.rsplit(": ", 1)[1].strip()


def webhook_cert_paths(platform: PlatformProcesses) -> tuple[Path, Path]:
    return (
        platform.log_dir / "webhook-cert.pem",
        platform.log_dir / "webhook-key.pem",
    )
