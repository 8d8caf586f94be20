"""Which claim events insurance relays to the case workflow, and which it rejects."""

import uuid

import pytest

from contracts.events import ClaimAssessed, ClaimOpened, ClaimRefused, ClaimSettled
from services.insurance.claim_checks import (
    ClaimEventRejectedError,
    ClaimNotOpenedError,
    ClaimStanding,
    check_claim_event,
)

CASE = uuid.uuid4()


def _settled(number: str = "PICC-1") -> ClaimSettled:
    return ClaimSettled(
        case_id=CASE, insurer_code="PICC", claim_number=number, amount_cents=100
    )


def _opened(number: str = "PICC-1") -> ClaimOpened:
    return ClaimOpened(case_id=CASE, insurer_code="PICC", claim_number=number)


def test_opening_after_delivery_is_accepted() -> None:
    check_claim_event(_opened(), ClaimStanding(handled=False, delivered=True))


def test_event_without_delivered_ruling_is_rejected() -> None:
    for event in (_opened(), _settled()):
        with pytest.raises(ClaimEventRejectedError) as caught:
            check_claim_event(event, ClaimStanding(handled=False, delivered=False))

        assert caught.value.code == "ruling_not_delivered"
        assert str(CASE) in caught.value.message


def test_settlement_before_opening_waits() -> None:
    with pytest.raises(ClaimNotOpenedError):
        check_claim_event(_settled(), ClaimStanding(handled=False, delivered=True))


def test_settlement_of_opened_claim_is_accepted() -> None:
    standing = ClaimStanding(
        handled=False, delivered=True, claim_number="PICC-1", status="assessed"
    )

    check_claim_event(_settled(), standing)


def test_other_claim_number_is_rejected() -> None:
    standing = ClaimStanding(
        handled=False, delivered=True, claim_number="PICC-1", status="opened"
    )

    for event in (_opened("PICC-2"), _settled("PICC-2")):
        with pytest.raises(ClaimEventRejectedError) as caught:
            check_claim_event(event, standing)

        assert caught.value.code == "claim_number_mismatch"


def test_assessment_after_settlement_is_accepted() -> None:
    assessed = ClaimAssessed(
        case_id=CASE, insurer_code="PICC", claim_number="PICC-1", amount_cents=100
    )
    standing = ClaimStanding(
        handled=False, delivered=True, claim_number="PICC-1", status="settled"
    )

    check_claim_event(assessed, standing)


def test_closing_cannot_contradict_closing() -> None:
    refused = ClaimRefused(
        case_id=CASE, insurer_code="PICC", claim_number="PICC-1", reason="欺诈"
    )
    for status, event in (("settled", refused), ("refused", _settled())):
        standing = ClaimStanding(
            handled=False, delivered=True, claim_number="PICC-1", status=status
        )

        with pytest.raises(ClaimEventRejectedError) as caught:
            check_claim_event(event, standing)

        assert caught.value.code == "claim_closing_conflict"


def test_redelivered_event_passes_again() -> None:
    standing = ClaimStanding(
        handled=True, delivered=True, claim_number="PICC-1", status="settled"
    )

    check_claim_event(_settled(), standing)
