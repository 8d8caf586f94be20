"""Measure the CPU cost of sealing personal data and of the Temporal payload codec.

Run ``python -m bench.sealing_cost [ROUNDS]``. It prints the mean time of one call,
on one core, with a throwaway key ring, so no key file is needed.
"""

import asyncio
import json
import sys
import timeit

from temporalio.api.common.v1 import Payload

from common.sealing import KeyRing, Purpose
from common.temporal_codec import SealingCodec
from demo.client import sample_case

DEFAULT_ROUNDS = 20_000


def main(rounds: int) -> None:
    ring = KeyRing(active_id="bench", keys={"bench": bytes(32)}, lookup_key=bytes(32))
    case = json.dumps(sample_case(), ensure_ascii=False)
    size = len(case.encode())

    def seal_and_open() -> None:
        ring.unseal(ring.seal(case, Purpose.CASE_DETAILS), Purpose.CASE_DETAILS)

    def hash_phone() -> None:
        ring.lookup_hash("13812345678", Purpose.PHONE)

    codec = SealingCodec(ring)
    payload = Payload(metadata={"encoding": b"json/plain"}, data=case.encode())
    loop = asyncio.new_event_loop()

    def encode_and_decode() -> None:
        encoded = loop.run_until_complete(codec.encode([payload]))
        loop.run_until_complete(codec.decode(encoded))

    measures = {
        f"seal and open a {size}-byte case": seal_and_open,
        "keyed hash of a phone number": hash_phone,
        f"codec encode and decode of a {size}-byte payload": encode_and_decode,
    }
    for name, call in measures.items():
        seconds = timeit.timeit(call, number=rounds) / rounds
        print(f"{name}: {seconds * 1e6:.1f} µs")
    loop.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROUNDS)
