import pytest
from pydantic import ValidationError

from contracts.case import NewCase, assign_party_ids
from contracts.events import ALL_EVENTS, InsurerNotification
from demo.client import sample_case


def test_sample_case_is_valid() -> None:
    case = NewCase.model_validate(sample_case())

    parties = assign_party_ids(case.parties)

    assert [party.party_id for party in parties] == ["A", "B"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "1381234567"), ("plate", "AB12345"), ("insurer_code", "picc")],
    ids=["short-phone", "plate-without-province", "lower-case-insurer"],
)
def test_invalid_party_field_is_rejected(field: str, value: str) -> None:
    payload = sample_case()
    payload["parties"][0][field] = value

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("parties", 0, field)


def test_single_party_case_is_rejected() -> None:
    payload = sample_case()
    payload["parties"] = payload["parties"][:1]

    with pytest.raises(ValidationError, match="at least 2 items"):
        NewCase.model_validate(payload)


def test_same_plate_twice_is_rejected() -> None:
    payload = sample_case()
    payload["parties"][1]["plate"] = payload["parties"][0]["plate"]

    with pytest.raises(ValidationError, match="different plate"):
        NewCase.model_validate(payload)


def test_every_event_has_its_own_topic() -> None:
    topics = [event.topic for event in ALL_EVENTS]

    assert len(set(topics)) == len(topics)
    assert InsurerNotification.topic_for("PICC") == "insurer.picc.notifications"
