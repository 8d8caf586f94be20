from datetime import UTC, datetime, timedelta

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
    [
        ("phone", "1381234567"),
        ("phone", "138\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"),
        ("phone", "13\u0669\u0668\u0667\u0666\u0665\u0664\u0663\u0662\u0661"),
        ("plate", "AB12345"),
        ("insurer_code", "picc"),
    ],
    ids=[
        "short-phone",
        "fullwidth-digits",
        "arabic-indic-digits",
        "plate-without-province",
        "lower-case-insurer",
    ],
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


@pytest.mark.parametrize(
    "plate",
    ["浙A12345", "粤BD12345", "浙A1234学", "京A1234挂"],
    ids=["ordinary", "new-energy", "learner", "trailer"],
)
def test_valid_plate_is_accepted(plate: str) -> None:
    payload = sample_case()
    payload["parties"][0]["plate"] = plate

    case = NewCase.model_validate(payload)

    assert case.parties[0].plate == plate


@pytest.mark.parametrize(
    "plate",
    ["我A12345", "浙AIO000", "浙A123", "浙a12345"],
    ids=["not-a-province", "letters-i-and-o", "too-short", "lower-case"],
)
def test_invalid_plate_is_rejected(plate: str) -> None:
    payload = sample_case()
    payload["parties"][0]["plate"] = plate

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("parties", 0, "plate")


def test_unknown_insurer_is_rejected_with_known_codes() -> None:
    payload = sample_case()
    payload["parties"][1]["insurer_code"] = "ZZBX"

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert "party 2: insurer code ZZBX is unknown" in str(error.value)
    assert "PICC" in str(error.value)


@pytest.mark.parametrize(
    ("accident_at", "message"),
    [
        ((datetime.now(UTC) + timedelta(hours=1)).isoformat(), "in the future"),
        ((datetime.now(UTC) - timedelta(days=30)).isoformat(), "more than 7 days ago"),
        ("2026-12-04T10:00:00", "timezone"),
    ],
    ids=["future", "month-old", "no-timezone"],
)
def test_implausible_accident_time_is_rejected(accident_at: str, message: str) -> None:
    payload = sample_case()
    payload["accident_at"] = accident_at

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("accident_at",)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("latitude", 0.0), ("longitude", 0.0), ("latitude", float("nan"))],
    ids=["zero-latitude", "zero-longitude", "nan"],
)
def test_location_outside_china_is_rejected(field: str, value: float) -> None:
    payload = sample_case()
    payload["location"][field] = value

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("location", field)


@pytest.mark.parametrize(
    "name",
    [" ", "a\u0000", "\u200b\u200b", "\u202e", "\ud800", "张\u2028伟", "\u0301"],
    ids=[
        "blank",
        "nul",
        "zero-width",
        "bidi-override",
        "lone-surrogate",
        "line-separator",
        "lone-combining-mark",
    ],
)
def test_unprintable_name_is_rejected(name: str) -> None:
    payload = sample_case()
    payload["parties"][0]["name"] = name

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("parties", 0, "name")


def test_name_is_trimmed() -> None:
    payload = sample_case()
    payload["parties"][0]["name"] = "  张伟 "

    case = NewCase.model_validate(payload)

    assert case.parties[0].name == "张伟"
