"""The staff token check intake depends on, kept small so any verifier can serve."""

from typing import Protocol


class StaffIdentity(Protocol):
    """The fields intake reads from a verified staff token."""

    @property
    def subject(self) -> str: ...

    @property
    def badge_number(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


class StaffVerifier(Protocol):
    async def verify(self, token: str) -> StaffIdentity: ...
