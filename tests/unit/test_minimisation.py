"""An insurer receives its own parties in full and the others masked."""

import uuid
from datetime import UTC, datetime

import pytest

from contracts.case import Location
from contracts.events import CaseReconsidered, CaseRuled, PartySummary
from contracts.ruling import Ruling
from demo.client import sample_ruling
from services.insurance.minimisation import (
    IncompleteReconsiderationError,
    mask_name,
    mask_plate,
    notification_for,
    replacements_for,
)


def _ruled() -> CaseRuled:
    return CaseRuled(
        case_id=uuid.uuid4(),
        accident_at=datetime.now(UTC),
        location=Location(latitude=30.27, longitude=120.15, address="杭州市文三路"),
        parties=[
            PartySummary(
                party_id="A",
                name="张伟",
                plate="浙A12345",
                insurer_code="PICC",
                policy_number="PDAA2026330100001234",
            ),
            PartySummary(
                party_id="B",
                name="欧阳娜娜",
                plate="浙B67890",
                insurer_code="PAIC",
                policy_number="ADZH2026330200005678",
            ),
        ],
        ruling=Ruling.model_validate(sample_ruling()),
        document_number="DZ20261204-1A2B3C4D",
    )


def _reconsidered(ruled: CaseRuled) -> CaseReconsidered:
    new_ruling = {
        **sample_ruling(),
        "officer_id": "330199",
        "liabilities": [
            {"party_id": "A", "category": "secondary", "share": 30},
            {"party_id": "B", "category": "primary", "share": 70},
        ],
    }
    return CaseReconsidered(
        case_id=ruled.case_id,
        outcome="replaced",
        first_document_number=ruled.document_number,
        document_number=f"{ruled.document_number}-F",
        ruling=Ruling.model_validate(new_ruling),
        accident_at=ruled.accident_at,
        location=ruled.location,
        parties=ruled.parties,
    )


def test_insurer_a_never_receives_b_details() -> None:
    notification = notification_for(_ruled(), "PICC")
    raw = notification.model_dump_json()

    assert [p.party_id for p in notification.insured_parties] == ["A"]
    assert [p.party_id for p in notification.other_parties] == ["B"]
    assert "ADZH2026330200005678" not in raw
    assert "欧阳娜娜" not in raw
    assert "浙B67890" not in raw
    assert notification.other_parties[0].plate_masked == "浙B***90"


def test_insurer_b_never_receives_a_details() -> None:
    notification = notification_for(_ruled(), "PAIC")
    raw = notification.model_dump_json()

    assert "PDAA2026330100001234" not in raw
    assert "张伟" not in raw
    assert "浙A12345" not in raw
    assert "欧阳娜娜" in raw


def test_name_and_plate_masks() -> None:
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_plate("浙B67890") == "浙B***90"
    assert mask_plate("浙AD12345") == "浙A****45"


def test_replacement_keeps_minimisation() -> None:
    ruled = _ruled()
    event = _reconsidered(ruled)

    replacements = {item.insurer_code: item for item in replacements_for(event)}
    picc = replacements["PICC"]
    raw = picc.model_dump_json()

    assert sorted(replacements) == ["PAIC", "PICC"]
    assert [p.party_id for p in picc.insured_parties] == ["A"]
    assert picc.other_parties[0].name_masked == "欧***"
    assert "ADZH2026330200005678" not in raw
    assert "欧阳娜娜" not in raw
    assert "浙B67890" not in raw
    assert picc.ruling.share_of("A") == 30
    assert picc.document_number == "DZ20261204-1A2B3C4D-F"
    assert picc.replaces_document_number == "DZ20261204-1A2B3C4D"
    assert picc.schema_version == 3


def test_replacement_event_ids_are_stable() -> None:
    ruled = _ruled()
    event = _reconsidered(ruled)

    first = {item.insurer_code: item.event_id for item in replacements_for(event)}
    again = {item.insurer_code: item.event_id for item in replacements_for(event)}
    ruling_id = notification_for(ruled, "PICC").event_id

    assert first == again
    assert first["PICC"] != first["PAIC"]
    assert first["PICC"] != ruling_id


def test_first_ruling_names_its_document() -> None:
    notification = notification_for(_ruled(), "PICC")

    assert notification.document_number == "DZ20261204-1A2B3C4D"
    assert notification.replaces_document_number == ""


def test_reconsideration_without_parties_rejected() -> None:
    event = _reconsidered(_ruled()).model_copy(
        update={"parties": [], "accident_at": None, "location": None}
    )

    with pytest.raises(IncompleteReconsiderationError, match="carries no accident"):
        replacements_for(event)
