"""An insurer receives its own parties in full and the others masked."""

import uuid
from datetime import UTC, datetime

from contracts.case import Location
from contracts.events import CaseRuled, PartySummary
from contracts.ruling import Ruling
from demo.client import sample_ruling
from services.insurance.minimisation import mask_name, mask_plate, notification_for


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
