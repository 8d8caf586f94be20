"""The load generator's parties: each confirms its assessed claim at once.

They read their texts from ``sms.requested`` on Kafka, as the notify service does,
and then make the phone page's calls (``demo.party``).
"""

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx

from demo.party import PartyPhone, confirm_from_link
from demo.sms import link_token

SETTLEMENT_TEMPLATE = "settlement_link"
CODE_TEMPLATE = "party_access_code"


class ScriptedParties:
    """Confirms every settlement link texted for a case of the run."""

    def __init__(
        self,
        phone: PartyPhone,
        on_error: Callable[[UUID, Exception], None],
        on_confirmed: Callable[[UUID], None],
    ):
        self._phone = phone
        self._on_error = on_error
        self._on_confirmed = on_confirmed
        self._codes: dict[tuple[UUID, str], asyncio.Future[str]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def seen(self, case_id: UUID, record: dict[str, Any]) -> None:
        """Take one ``sms.requested`` record of a case of the run."""
        template = record.get("template")
        key = (case_id, record["party_id"])
        if template == CODE_TEMPLATE:
            code = self._future(key)
            if not code.done():
                code.set_result(record["variables"]["code"])
        elif template == SETTLEMENT_TEMPLATE:
            link = link_token(record["variables"]["link"])
            task = asyncio.create_task(self._confirm(key, link))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _future(self, key: tuple[UUID, str]) -> asyncio.Future[str]:
        if key not in self._codes:
            self._codes[key] = asyncio.get_running_loop().create_future()
        return self._codes[key]

    async def _confirm(self, key: tuple[UUID, str], link: str) -> None:
        async def read_code() -> str:
            return await asyncio.wait_for(self._future(key), timeout=60)

        try:
            await confirm_from_link(self._phone, link, read_code)
        except (httpx.HTTPError, TimeoutError, LookupError) as error:
            self._on_error(key[0], error)
        else:
            self._on_confirmed(key[0])
