"""Hypothesis strategies for events, drawn from each model's own JSON Schema.

A new event model or field is covered without a change here. Rulings come from
``tests.support.rulings``, because a ruling drawn from its schema alone is almost
never consistent.
"""

from datetime import UTC
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.events import ALL_EVENTS, Event
from contracts.ruling import Ruling
from contracts.versions import current_version
from tests.support.rulings import valid_liabilities

MODELS = {model.__name__: model for model in ALL_EVENTS}


@st.composite
def _rulings(draw: st.DrawFn) -> dict[str, Any]:
    ruling = Ruling(
        officer_id=draw(st.from_regex(r"^[0-9]{6}$", fullmatch=True)),
        facts=draw(
            st.text(
                st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=40
            ).filter(str.strip)
        ),
        rule_applied="道路交通安全法实施条例第四十四条",
        liabilities=draw(valid_liabilities()),
    )
    return ruling.model_dump(mode="json")


def _string(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    low = schema.get("minLength", 0)
    high = schema.get("maxLength", low + 40)
    if "pattern" in schema:
        # Only the schema's own length limits apply to a pattern.
        longest = schema.get("maxLength", float("inf"))
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda text: low <= len(text) <= longest
        )
    formats: dict[str, st.SearchStrategy[Any]] = {
        "uuid": st.uuids().map(str),
        "date-time": st.datetimes(timezones=st.just(UTC)).map(
            lambda moment: moment.isoformat()
        ),
        "date": st.dates().map(lambda day: day.isoformat()),
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return st.text(min_size=low, max_size=min(high, low + 40))


def _number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if integer:
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - 1
        return st.integers(low, high)
    return st.floats(
        low,
        high,
        allow_nan=False,
        allow_infinity=False,
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
    )


def _object(
    schema: dict[str, Any], definitions: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    required = set(schema.get("required", []))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        instance: dict[str, Any] = {}
        for name, child in schema.get("properties", {}).items():
            if name in required or draw(st.booleans()):
                instance[name] = draw(from_schema(child, definitions))
        return instance

    return build()


def _scalar(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind in {"integer", "number"}:
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.text(max_size=10)


def from_schema(  # noqa: PLR0911 - one return per JSON Schema keyword
    schema: dict[str, Any], definitions: dict[str, Any]
) -> st.SearchStrategy[Any]:
    """Draw JSON values valid for a pydantic model's JSON Schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name == "Ruling":
            return _rulings()
        return st.deferred(lambda: from_schema(definitions[name], definitions))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(item, definitions) for item in schema["anyOf"]])
    if schema.get("type") == "object":
        return _object(schema, definitions)
    if schema.get("type") == "array":
        return st.lists(
            from_schema(schema.get("items", {}), definitions),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 3), 3),
        )
    return _scalar(schema)


def events(name: str) -> st.SearchStrategy[Event]:
    """Draw valid events of one model."""
    model = MODELS[name]
    schema = model.model_json_schema(mode="validation")
    definitions = schema.get("$defs", {})

    def validate(instance: dict[str, Any]) -> Event | None:
        try:
            return model.model_validate(instance)
        except ValidationError:
            return None

    @st.composite
    def draw_event(draw: st.DrawFn) -> Event:
        instance = draw(_object(schema, definitions))
        # The schema does not bound the version, but the model's validator does.
        instance["schema_version"] = draw(st.integers(1, current_version(model)))
        event = validate(instance)
        assume(event is not None)
        assert event is not None
        return event

    return draw_event()
