"""A text message requested again, as a retried activity does, is sent once."""

import asyncio
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer

from common.settings import PlatformSettings
from contracts.events import SmsRequested
from tests.support.platform import PlatformProcesses, sms_deliveries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_repeated_sms_request_sends_once(
    settings: PlatformSettings, platform: PlatformProcesses
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
        for _ in range(3):
            # A new event id each time, as three attempts of one activity would send.
            request.event_id = uuid.uuid4()
            await producer.send_and_wait(
                topic, request.model_dump_json().encode(), key=str(case_id).encode()
            )
    finally:
        await producer.stop()

    sends = await _wait_for_deliveries(settings, case_id)
    skipped = platform.log_text("notify").count("sms already handled")

    assert sends == {request.message_id: 1}
    assert skipped >= 1


async def _wait_for_deliveries(
    settings: PlatformSettings, case_id: uuid.UUID
) -> Counter[str]:
    """Wait until notify has handled the requests, then count the deliveries."""
    for _ in range(50):
        sends = await sms_deliveries(settings.database_url, case_id)
        if sends:
            # Give the repeated requests behind the first the time to be handled.
            await asyncio.sleep(2)
            return await sms_deliveries(settings.database_url, case_id)
        await asyncio.sleep(0.2)
    return Counter()
