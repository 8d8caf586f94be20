"""The accident-type table and the departure check on rulings."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.ruling import Ruling
from decision_support import (
    DEFAULT_TABLE_FILE,
    AccidentTypeError,
    check_ruling_type,
    load_accident_types,
)
from demo.client import sample_ruling

REQUIRED_TYPES = {
    "rear_end",
    "lane_change",
    "reversing",
    "turning_across",
    "door_opening",
    "signal_violation",
}


def ruling(**changes: object) -> Ruling:
    return Ruling.model_validate({**sample_ruling(), **changes})


def test_bundled_table_has_standard_types() -> None:
    table = load_accident_types()

    codes = {item.code for item in table.types}

    assert codes >= REQUIRED_TYPES
    for item in table.types:
        shares = {suggestion.share for suggestion in item.suggested}
        assert shares <= {100, 70, 50, 30, 0}, item.code


def test_matching_ruling_passes() -> None:
    check_ruling_type(ruling(accident_type="rear_end"), load_accident_types())


def test_roles_match_either_party() -> None:
    swapped = ruling(
        accident_type="rear_end",
        liabilities=[
            {"party_id": "A", "category": "full", "share": 100},
            {"party_id": "B", "category": "none", "share": 0},
        ],
    )

    check_ruling_type(swapped, load_accident_types())


def test_departure_without_reason_is_rejected() -> None:
    departing = ruling(
        accident_type="rear_end",
        liabilities=[
            {"party_id": "A", "category": "secondary", "share": 30},
            {"party_id": "B", "category": "primary", "share": 70},
        ],
    )

    with pytest.raises(AccidentTypeError) as error:
        check_ruling_type(departing, load_accident_types())

    assert error.value.code == "departure_reason_required"
    assert "100/0" in error.value.message


def test_departure_with_reason_passes() -> None:
    departing = ruling(
        accident_type="rear_end",
        departure_reason="前车无故急刹，视频可见。",
        liabilities=[
            {"party_id": "A", "category": "secondary", "share": 30},
            {"party_id": "B", "category": "primary", "share": 70},
        ],
    )

    check_ruling_type(departing, load_accident_types())


def test_missing_type_is_rejected() -> None:
    with pytest.raises(AccidentTypeError) as error:
        check_ruling_type(ruling(accident_type=None), load_accident_types())

    assert error.value.code == "accident_type_required"


def test_unknown_type_is_rejected() -> None:
    with pytest.raises(AccidentTypeError) as error:
        check_ruling_type(ruling(accident_type="meteor"), load_accident_types())

    assert error.value.code == "accident_type_unknown"
    assert "rear_end" in error.value.message


def test_province_table_replaces_bundled(tmp_path: Path) -> None:
    table = json.loads(DEFAULT_TABLE_FILE.read_text(encoding="utf-8"))
    rear_end = next(item for item in table["types"] if item["code"] == "rear_end")
    rear_end["suggested"][0].update(category="primary", share=70)
    rear_end["suggested"][1].update(category="secondary", share=30)
    path = tmp_path / "province.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    province = load_accident_types(path)
    seventy_thirty = ruling(
        accident_type="rear_end",
        liabilities=[
            {"party_id": "A", "category": "secondary", "share": 30},
            {"party_id": "B", "category": "primary", "share": 70},
        ],
    )

    check_ruling_type(seventy_thirty, province)
    with pytest.raises(AccidentTypeError):
        check_ruling_type(ruling(accident_type="rear_end"), province)


def test_table_with_bad_shares_is_rejected(tmp_path: Path) -> None:
    table = json.loads(DEFAULT_TABLE_FILE.read_text(encoding="utf-8"))
    table["types"][0]["suggested"][0]["share"] = 90
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(ValidationError, match="shares add up to 90"):
        load_accident_types(path)


def test_missing_table_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the accident-type table"):
        load_accident_types(tmp_path / "absent.json")
