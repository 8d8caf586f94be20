"""What one insurer may see of a ruled case: its own parties, the others masked."""

import uuid

from contracts.events import CaseRuled, InsurerNotification, OtherParty, PartySummary


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


def notification_for(event: CaseRuled, insurer_code: str) -> InsurerNotification:
    """Build one insurer's notification, with an event id fixed by the ruling."""
    return InsurerNotification(
        event_id=uuid.uuid5(event.event_id, insurer_code),
        case_id=event.case_id,
        trace_id=event.trace_id,
        insurer_code=insurer_code,
        accident_at=event.accident_at,
        location=event.location,
        insured_parties=[p for p in event.parties if p.insurer_code == insurer_code],
        other_parties=[
            _masked(p) for p in event.parties if p.insurer_code != insurer_code
        ],
        ruling=event.ruling,
    )
