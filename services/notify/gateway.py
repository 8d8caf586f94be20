"""The HTTP SMS provider: a real SMS gateway behind a small JSON API.

Each send is ``POST {gateway}/messages`` with the message id, the phone number, the
text and the URL for the delivery receipt, and the message id again as the
``Idempotency-Key`` header. The gateway sends a message id once, so the retries
here and a redelivered Kafka event never reach a phone twice. The gateway later
posts a receipt to notify's ``POST /sms/receipts``, signed with the shared receipt
secret like insurer webhooks (``contracts/webhooks.py``).
"""

import asyncio

import httpx
import structlog

from common.db import Connection
from common.kafka_retry import PermanentMessageError

log = structlog.get_logger(__name__)


class SmsGatewayError(Exception):
    """The gateway did not take a message after every try; Kafka delivers it again."""


class HttpSmsProvider:
    name = "http"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        gateway_url: str,
        api_key: str,
        receipt_url: str,
        attempts: int = 3,
        first_delay_seconds: float = 0.5,
    ) -> None:
        self._http = http
        self._url = gateway_url.rstrip("/") + "/messages"
        self._api_key = api_key
        self._receipt_url = receipt_url
        self._attempts = attempts
        self._first_delay = first_delay_seconds

    async def send(
        self,
        message_id: str,
        phone: str,
        body: str,
        connection: Connection | None = None,
    ) -> None:
        """Post the text; the gateway drops a repeat by its idempotency key.

        ``connection`` is not used: nothing is written to the database here.
        """
        payload = {
            "message_id": message_id,
            "phone": phone,
            "body": body,
            "receipt_url": self._receipt_url,
        }
        headers = {"idempotency-key": message_id}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        failure = ""
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._http.post(
                    self._url, json=payload, headers=headers
                )
            except httpx.TransportError as error:
                failure = repr(error)
            else:
                if response.is_success:
                    log.info("sms handed to gateway", message_id=message_id)
                    return
                failure = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.is_client_error and response.status_code != 429:
                    # The gateway rejects the message itself (a bad number, say).
                    raise PermanentMessageError(
                        f"SMS gateway rejected message {message_id}: {failure}"
                    )
            if attempt < self._attempts:
                delay = self._first_delay * 2 ** (attempt - 1)
                log.warning(
                    "sms gateway failed",
                    message_id=message_id,
                    attempt=attempt,
                    retry_in_seconds=delay,
                    error=failure,
                )
                await asyncio.sleep(delay)
        raise SmsGatewayError(
            f"SMS gateway did not take message {message_id} after "
            f"{self._attempts} tries: {failure}"
        )
