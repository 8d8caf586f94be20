"""Versioned event contracts: JSON Schema snapshots and the compatibility rule.

The pydantic models in ``contracts/events.py`` are the source. Each model's
``schema_version`` default is its current version, and ``contracts/schemas/``
keeps one JSON Schema file per model and version, written by
``python -m contracts.versions``. Files of older versions never change. The file of
the current version is rewritten only for changes that its consumers can still
read (``breaking_changes``), such as a new optional field or a reworded
description. Every version must keep what consumers of the one before read.
"""

import json
import sys
from pathlib import Path
from typing import Any

from contracts.events import ALL_EVENTS, Event

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def current_version(model: type[Event]) -> int:
    version = model.model_fields["schema_version"].default
    assert isinstance(version, int)
    return version


def schema_path(model: type[Event], version: int) -> Path:
    return SCHEMA_DIR / f"{model.__name__}.v{version}.json"


def generate_schema(model: type[Event]) -> dict[str, Any]:
    """Return the JSON Schema of the model's current version, as consumers read it."""
    schema = model.model_json_schema(mode="serialization")
    schema["$id"] = schema_path(model, current_version(model)).name
    schema["x-topic"] = model.topic
    return schema


def committed_versions(model: type[Event]) -> dict[int, dict[str, Any]]:
    """Return the committed schema of each version of the model, oldest first."""
    found: dict[int, dict[str, Any]] = {}
    for path in SCHEMA_DIR.glob(f"{model.__name__}.v*.json"):
        version = int(path.stem.rsplit(".v", 1)[1])
        found[version] = json.loads(path.read_text(encoding="utf-8"))
    return dict(sorted(found.items()))


def _property_type(schema: dict[str, Any]) -> Any:
    # The keys that fix what a consumer parses; descriptions and titles may change.
    return {
        key: schema[key]
        for key in ("type", "$ref", "items", "anyOf", "enum", "const", "format")
        if key in schema
    }


def _object_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes: list[str] = []
    old_properties: dict[str, Any] = old.get("properties", {})
    new_properties: dict[str, Any] = new.get("properties", {})
    new_required = set(new.get("required", []))
    for name in old.get("required", []):
        if name not in new_properties:
            changes.append(f"{where}.{name}: required field removed")
        elif name not in new_required:
            changes.append(f"{where}.{name}: no longer required")
    for name, old_property in old_properties.items():
        new_property = new_properties.get(name)
        if new_property is None:
            if name not in old.get("required", []):
                changes.append(f"{where}.{name}: field removed")
            continue
        if _property_type(old_property) != _property_type(new_property):
            changes.append(f"{where}.{name}: type changed")
    return changes


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """List what in ``new`` a consumer written against ``old`` could not read.

    A consumer of the old version must find every field it knew, with the same
    type, and every field that was required still present. New fields are allowed,
    because the models and the committed schemas accept unknown fields.
    """
    changes = _object_changes("event", old, new)
    new_definitions: dict[str, Any] = new.get("$defs", {})
    for name, definition in old.get("$defs", {}).items():
        if name not in new_definitions:
            changes.append(f"{name}: definition removed")
        else:
            changes += _object_changes(name, definition, new_definitions[name])
    return changes


def write_current_schemas() -> list[Path]:
    """Write each model's current schema file when missing or compatibly changed.

    Raises ValueError when a model breaks its committed current version.
    """
    written: list[Path] = []
    for model in ALL_EVENTS:
        version = current_version(model)
        path = schema_path(model, version)
        schema = generate_schema(model)
        if path.exists():
            committed = json.loads(path.read_text(encoding="utf-8"))
            if committed == schema:
                continue
            changes = breaking_changes(committed, schema)
            if changes:
                raise ValueError(
                    f"{model.__name__} breaks its committed version {version} "
                    f"({'; '.join(changes)}): keep those fields, or publish the "
                    "change on a new topic"
                )
        path.write_text(
            json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written


if __name__ == "__main__":
    try:
        for written_path in write_current_schemas():
            print(f"wrote {written_path.relative_to(SCHEMA_DIR.parent.parent)}")
    except ValueError as error:
        sys.exit(str(error))
