"""A party's phone on the settlement page, scripted: the same intake calls the page
makes, from the settlement link in the SMS to the confirmed payee account.

The demo, the benchmark and the tests use it; each reads the texts its own way.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

# A payee account for scripted parties; the number has 16 digits like a bank card.
SAMPLE_PAYEE = {
    "account_holder": "李娜",
    "bank": "招商银行",
    "account_number": "6214 8301 0000 0123",
}


@dataclass(frozen=True)
class PartySession:
    token: str
    case_id: UUID
    party_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class PartyPhone:
    """Intake's party endpoints, called as the phone page calls them."""

    http: httpx.AsyncClient
    intake: str

    async def request_code(self, link: str) -> httpx.Response:
        return await self.http.post(
            f"{self.intake}/access/code", json={"link_token": link}
        )

    async def sign_in(self, link: str, code: str) -> PartySession:
        response = await self.http.post(
            f"{self.intake}/access/session", json={"link_token": link, "code": code}
        )
        response.raise_for_status()
        body = response.json()
        return PartySession(
            token=body["session_token"],
            case_id=UUID(body["case_id"]),
            party_id=body["party_id"],
        )

    def settlement_url(self, case_id: UUID, party_id: str) -> str:
        return f"{self.intake}/cases/{case_id}/parties/{party_id}/settlement"

    async def settlement(
        self, session: PartySession, party_id: str | None = None
    ) -> httpx.Response:
        """Read the settlement page of ``party_id`` (the session's own by default)."""
        url = self.settlement_url(session.case_id, party_id or session.party_id)
        return await self.http.get(url, headers=session.headers)

    async def confirm(
        self,
        session: PartySession,
        form: dict[str, Any],
        party_id: str | None = None,
    ) -> httpx.Response:
        """Send the settlement form: ``claim_number``, ``consent`` and the payee."""
        url = self.settlement_url(session.case_id, party_id or session.party_id)
        return await self.http.post(url, json=form, headers=session.headers)


def claim_to_confirm(view: dict[str, Any]) -> dict[str, Any]:
    """Return the first assessed claim of a settlement view not yet confirmed."""
    for claim in view["claims"]:
        if claim["status"] == "assessed" and claim["confirmation"] is None:
            found: dict[str, Any] = claim
            return found
    raise LookupError(f"no claim waits for confirmation in {view['claims']}")


async def confirm_from_link(
    phone: PartyPhone,
    link: str,
    read_code: Callable[[], Awaitable[str]],
    payee: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Sign in from a settlement link and confirm its assessed claim at once.

    ``read_code`` waits for the one-time code texted to the party. Returns the
    settlement view that the confirmation returned.
    """
    (await phone.request_code(link)).raise_for_status()
    session = await phone.sign_in(link, await read_code())
    loaded = await phone.settlement(session)
    loaded.raise_for_status()
    claim = claim_to_confirm(loaded.json())
    form = {
        "claim_number": claim["claim_number"],
        "consent": True,
        **(payee or SAMPLE_PAYEE),
    }
    confirmed = await phone.confirm(session, form)
    confirmed.raise_for_status()
    view: dict[str, Any] = confirmed.json()
    return view
