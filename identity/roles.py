"""The roles staff hold and the signed-in person the APIs see."""

from enum import StrEnum

from pydantic import BaseModel


class Role(StrEnum):
    """The role of a person on the platform."""

    OFFICER = "officer"
    """A certified officer: claims cases from the queue and rules on them."""
    SUPERVISOR = "supervisor"
    """Reassigns cases, lists time-limit breaches and reads the audit log."""
    AUXILIARY_OFFICER = "auxiliary_officer"
    """Films scenes and follows cases, but never rules."""
    INSURER = "insurer"
    """An insurer's system calling the platform."""
    OPERATOR = "operator"
    """Support staff: reads the text messages sent for a case."""


class StaffPrincipal(BaseModel):
    """The person (or system) behind a verified token."""

    subject: str
    name: str
    badge_number: str
    roles: frozenset[Role]

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)
