"""The HTTP SMS provider against a fake gateway on loopback that sends receipts."""

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from common.settings import PlatformSettings
from contracts.events import SmsRequested
from simulators.sms_gateway import API_KEY, FakeSmsGateway, running_gateway
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
RECEIPT_SECRET = "receipt-secret-for-tests"


@pytest.fixture
def gateway(platform: PlatformProcesses) -> Iterator[FakeSmsGateway]:
    """Run notify with the HTTP provider against a gateway that fails once."""
    with running_gateway(RECEIPT_SECRET, failures=1) as fake:
        platform.kill("notify")
        platform.start(
            "notify",
            "services.notify",
            {
                "DINGZE_NOTIFY_PROVIDER": "http",
                "DINGZE_NOTIFY_GATEWAY_URL": fake.url,
                "DINGZE_NOTIFY_RECEIPT_SECRET": RECEIPT_SECRET,
                "DINGZE_NOTIFY_GATEWAY_API_KEY": API_KEY,
            },
        )
        try:
            platform.wait_healthy("notify")
            yield fake
        finally:
            platform.kill("notify")
            platform.start("notify", "services.notify")
            platform.wait_healthy("notify")


async def _delivery_status(database_url: str, message_id: str) -> str | None:
    connection = await asyncpg.connect(database_url)
    try:
        status = await connection.fetchval(
            "SELECT delivery_status FROM notify.messages WHERE message_id = $1",
            message_id,
        )
    finally:
        await connection.close()
    return None if status is None else str(status)


async def test_gateway_gets_message_once_and_receipt_returns(
    gateway: FakeSmsGateway,
    platform: PlatformProcesses,
    settings: PlatformSettings,
) -> None:
    case_id = uuid.uuid4()
    request = SmsRequested(
        case_id=case_id,
        message_id=f"{case_id}:evidence_received:A",
        party_id="A",
        phone="13812345678",
        template="evidence_received",
        variables={"case_number": str(case_id)[:8], "plate": "浙A12345"},
    )
    topic = f"{platform.env['DINGZE_KAFKA_TOPIC_PREFIX']}{SmsRequested.topic}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(2):
            # A new event id each time, as two attempts of one activity would send.
            request.event_id = uuid.uuid4()
            await producer.send_and_wait(
                topic, request.model_dump_json().encode(), key=str(case_id).encode()
            )
    finally:
        await producer.stop()

    status = None
    for _ in range(100):
        status = await _delivery_status(settings.database_url, request.message_id)
        if status is not None:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)

    assert status == "delivered"
    assert gateway.deliveries(request.message_id) == 1
    assert gateway.requests >= 2
    # Other tests' messages may reach the gateway too; only this one counts.
    assert gateway.receipts_sent.count(request.message_id) == 1
    sent = [m for m in gateway.handset if m["message_id"] == request.message_id]
    assert "【定责】" in sent[0]["body"]
