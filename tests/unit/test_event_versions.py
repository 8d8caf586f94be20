"""Committed event schemas stay fixed, and each version reads as its predecessor."""

import copy
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts.asyncapi import asyncapi_document
from contracts.events import ALL_EVENTS, Event, InsurerNotification
from contracts.versions import (
    breaking_changes,
    committed_versions,
    current_version,
    generate_schema,
    schema_path,
)

MODELS = {model.__name__: model for model in ALL_EVENTS}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_current_version_matches_committed_schema(name: str) -> None:
    model = MODELS[name]
    path = schema_path(model, current_version(model))

    assert path.exists(), f"run python -m contracts.versions to write {path.name}"
    committed = json.loads(path.read_text(encoding="utf-8"))
    changes = breaking_changes(committed, generate_schema(model))
    assert changes == [], f"{name} breaks its committed version: {changes}"
    assert committed == generate_schema(model), (
        f"{path.name} is out of date: run python -m contracts.versions"
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_version_keeps_the_previous_readable(name: str) -> None:
    versions = committed_versions(MODELS[name])
    numbers = list(versions)

    assert numbers == list(range(1, len(numbers) + 1))
    for older, newer in itertools.pairwise(numbers):
        changes = breaking_changes(versions[older], versions[newer])
        assert changes == [], f"{name} v{newer} breaks v{older}: {changes}"


def _claim_schema() -> dict[str, Any]:
    return committed_versions(MODELS["ClaimSettled"])[1]


def test_removed_field_is_breaking() -> None:
    old = _claim_schema()
    new = copy.deepcopy(old)
    del new["properties"]["amount_cents"]

    assert breaking_changes(old, new) == ["event.amount_cents: required field removed"]


def test_changed_type_is_breaking() -> None:
    old = _claim_schema()
    new = copy.deepcopy(old)
    new["properties"]["amount_cents"]["type"] = "string"

    assert breaking_changes(old, new) == ["event.amount_cents: type changed"]


def test_nested_field_removed_is_breaking() -> None:
    old = committed_versions(InsurerNotification)[1]
    new = copy.deepcopy(old)
    del new["$defs"]["Ruling"]["properties"]["facts"]

    assert breaking_changes(old, new) == ["Ruling.facts: required field removed"]


def test_added_field_is_compatible() -> None:
    old = _claim_schema()
    new = copy.deepcopy(old)
    new["properties"]["currency"] = {"type": "string"}
    new["required"].append("currency")

    assert breaking_changes(old, new) == []


def _current_notification() -> InsurerNotification:
    return InsurerNotification.model_validate(
        {
            "case_id": "9f1c1d6e-6d0c-4d55-9d8c-3d2f0e4b9a10",
            "insurer_code": "PICC",
            "accident_at": datetime.now(UTC).isoformat(),
            "location": {"latitude": 30.2, "longitude": 120.1, "address": "文三路"},
            "insured_parties": [
                {
                    "party_id": "A",
                    "name": "张伟",
                    "plate": "浙A12345",
                    "insurer_code": "PICC",
                    "policy_number": "PDAA2026330100001234",
                }
            ],
            "other_parties": [
                {
                    "party_id": "B",
                    "name_masked": "李*",
                    "plate_masked": "浙B***90",
                    "insurer_code": "PAIC",
                }
            ],
            "ruling": {
                "officer_id": "330102",
                "facts": "B 车追尾 A 车。",
                "rule_applied": "《道路交通安全法》第四十三条",
                "liabilities": [
                    {"party_id": "A", "category": "none", "share": 0},
                    {"party_id": "B", "category": "full", "share": 100},
                ],
            },
        }
    )


@pytest.mark.parametrize("version", [1, 2])
def test_older_schema_reads_current_notification(version: int) -> None:
    older = committed_versions(InsurerNotification)[version]
    notification = _current_notification().model_copy(
        update={
            "document_number": "DZ20261204-9F1C1D6E-F",
            "replaces_document_number": "DZ20261204-9F1C1D6E",
        }
    )
    payload = json.loads(notification.model_dump_json())

    validator = Draft202012Validator(older)
    errors = [error.message for error in validator.iter_errors(payload)]

    assert payload["schema_version"] == 3
    assert errors == []


@pytest.mark.parametrize("name", sorted(MODELS))
def test_asyncapi_names_every_topic(name: str) -> None:
    model: type[Event] = MODELS[name]
    document = asyncapi_document("127.0.0.1:9092")

    addresses = {channel["address"] for channel in document["channels"].values()}

    assert document["asyncapi"] == "3.0.0"
    assert model.topic in addresses
    assert name in document["components"]["schemas"]
