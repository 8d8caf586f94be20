"""What one insurer may see of a ruled case: its own parties, the others masked."""

import uuid
from datetime import datetime

from contracts.case import Location
from contracts.events import (
    CaseReconsidered,
    CaseRuled,
    Event,
    InsurerNotification,
    OtherParty,
    PartySummary,
)
from contracts.ruling import Ruling


def mask_name(name: str) -> str:
    """Keep the first character, the family name of most Chinese names."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_plate(plate: str) -> str:
    """Keep the region (first two characters) and the last two characters."""
    if len(plate) <= 4:
        return plate[:1] + "*" * (len(plate) - 1)
    return plate[:2] + "*" * (len(plate) - 4) + plate[-2:]


def _masked(party: PartySummary) -> OtherParty:
    return OtherParty(
        party_id=party.party_id,
        name_masked=mask_name(party.name),
        plate_masked=mask_plate(party.plate),
        insurer_code=party.insurer_code,
    )


def _minimised(
    event: Event,
    insurer_code: str,
    *,
    accident_at: datetime,
    location: Location,
    parties: list[PartySummary],
    ruling: Ruling,
    document_number: str,
    replaces_document_number: str = "",
) -> InsurerNotification:
    """Build one insurer's notification, with an event id fixed by ``event``."""
    return InsurerNotification(
        event_id=uuid.uuid5(event.event_id, insurer_code),
        case_id=event.case_id,
        trace_id=event.trace_id,
        insurer_code=insurer_code,
        accident_at=accident_at,
        location=location,
        insured_parties=[p for p in parties if p.insurer_code == insurer_code],
        other_parties=[_masked(p) for p in parties if p.insurer_code != insurer_code],
        ruling=ruling,
        document_number=document_number,
        replaces_document_number=replaces_document_number,
    )


def notification_for(event: CaseRuled, insurer_code: str) -> InsurerNotification:
    """Build one insurer's notification of a first ruling."""
    return _minimised(
        event,
        insurer_code,
        accident_at=event.accident_at,
        location=event.location,
        parties=event.parties,
        ruling=event.ruling,
        document_number=event.document_number,
    )


class IncompleteReconsiderationError(ValueError):
    """A case.reconsidered event without the accident and parties to send on."""


def replacements_for(event: CaseReconsidered) -> list[InsurerNotification]:
    """Build each insurer's notification of the ruling a reconsideration put in force.

    Raises IncompleteReconsiderationError for an event published before it
    carried the accident and the parties.
    """
    if event.accident_at is None or event.location is None or not event.parties:
        raise IncompleteReconsiderationError(
            f"case.reconsidered {event.event_id} of case {event.case_id} carries no "
            "accident time, place or parties, so no insurer notification can be "
            "built from it"
        )
    return [
        _minimised(
            event,
            insurer_code,
            accident_at=event.accident_at,
            location=event.location,
            parties=event.parties,
            ruling=event.ruling,
            document_number=event.document_number,
            replaces_document_number=event.first_document_number,
        )
        for insurer_code in sorted({party.insurer_code for party in event.parties})
    ]
