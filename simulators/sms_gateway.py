"""A fake SMS gateway on loopback: takes messages once by id and posts receipts.

It replaces a real gateway in tests and local runs. ``POST /messages`` with a JSON
body of ``message_id``, ``phone``, ``body`` and ``receipt_url`` returns 202. A
message id seen before gets 202 again but is not delivered again. After each
first delivery the gateway posts ``{"message_id", "status": "delivered"}`` to the
receipt URL, signed with the receipt secret. ``failures`` makes the first requests
fail with 503, as a gateway in trouble would.
"""

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from contracts.webhooks import SIGNATURE_HEADER, sign

# The API key the fake gateway expects as a bearer token.
API_KEY = "fake-gateway-key"


@dataclass
class FakeSmsGateway:
    receipt_secret: str
    failures: int = 0
    requests: int = 0
    handset: list[dict[str, str]] = field(default_factory=list)
    receipts_sent: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def take(self, message: dict[str, str]) -> tuple[int, bool]:
        """Return the response status and whether the message is new."""
        with self.lock:
            self.requests += 1
            if self.requests <= self.failures:
                return 503, False
            seen = {sent["message_id"] for sent in self.handset}
            if message["message_id"] in seen:
                return 202, False
            self.handset.append(message)
            return 202, True

    def deliveries(self, message_id: str) -> int:
        with self.lock:
            return sum(1 for sent in self.handset if sent["message_id"] == message_id)

    def post_receipt(self, message: dict[str, str]) -> None:
        body = json.dumps(
            {"message_id": message["message_id"], "status": "delivered"}
        ).encode()
        request = urllib.request.Request(
            message["receipt_url"],
            data=body,
            method="POST",
            headers={
                "content-type": "application/json",
                SIGNATURE_HEADER: sign(self.receipt_secret, int(time.time()), body),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        with self.lock:
            self.receipts_sent.append(message["message_id"])


@contextmanager
def running_gateway(receipt_secret: str, failures: int = 0) -> Iterator[FakeSmsGateway]:
    """Serve a fake gateway on a free port of 127.0.0.1 while the block runs."""
    gateway = FakeSmsGateway(receipt_secret=receipt_secret, failures=failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            message = json.loads(self.rfile.read(length))
            if self.headers.get("authorization") != f"Bearer {API_KEY}":
                status, new = 401, False
            else:
                status, new = gateway.take(message)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()
            if new:
                threading.Thread(
                    target=gateway.post_receipt, args=(message,), daemon=True
                ).start()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
