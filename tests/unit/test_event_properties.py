"""Properties of the event contracts: JSON round trips, versions and invalid values."""

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from contracts.versions import committed_versions, current_version
from tests.support.events import MODELS, events

EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("name", sorted(MODELS))
@EXAMPLES
@given(data=st.data())
def test_event_round_trips_json(name: str, data: st.DataObject) -> None:
    event = data.draw(events(name))
    model = MODELS[name]

    text = event.model_dump_json()

    assert model.model_validate_json(text) == event
    document = event.model_dump(mode="json")
    assert model.model_validate(document) == event
    # A consumer of any committed version reads the current event.
    for version, schema in committed_versions(model).items():
        errors = [
            error.message
            for error in Draft202012Validator(schema).iter_errors(document)
        ]
        assert errors == [], f"v{version}: {errors}"


@pytest.mark.parametrize(
    "name",
    sorted(name for name, model in MODELS.items() if current_version(model) > 1),
)
@EXAMPLES
@given(data=st.data())
def test_older_version_upgrades_with_defaults(name: str, data: st.DataObject) -> None:
    model = MODELS[name]
    event = data.draw(events(name))
    current = event.model_dump(mode="json")

    for version, schema in committed_versions(model).items():
        older = {
            key: value for key, value in current.items() if key in schema["properties"]
        }
        older["schema_version"] = version
        upgraded = model.model_validate(older)

        assert upgraded.schema_version == version
        for field in set(current) - set(older):
            assert getattr(upgraded, field) == model.model_fields[field].get_default(
                call_default_factory=True
            ), f"v{version}: {field}"


@pytest.mark.parametrize("name", sorted(MODELS))
@EXAMPLES
@given(
    data=st.data(),
    case_id=st.one_of(st.text(max_size=40), st.integers(), st.none()),
    offset=st.integers(1, 1000),
)
def test_invalid_values_rejected(
    name: str, data: st.DataObject, case_id: Any, offset: int
) -> None:
    model = MODELS[name]
    document = data.draw(events(name)).model_dump(mode="json")
    required = model.model_json_schema(mode="validation").get("required", [])
    missing = data.draw(st.sampled_from(required))
    assume(not isinstance(case_id, str) or len(case_id.replace("-", "")) != 32)

    without_field = {key: value for key, value in document.items() if key != missing}
    with pytest.raises(ValidationError) as error:
        model.model_validate(without_field)
    assert any(item["loc"][:1] == (missing,) for item in error.value.errors())
    with pytest.raises(ValidationError):
        model.model_validate({**document, "case_id": case_id})
    newer = {**document, "schema_version": current_version(model) + offset}
    with pytest.raises(ValidationError, match="schema version"):
        model.model_validate(newer)
    with pytest.raises(ValidationError, match="schema version"):
        model.model_validate({**document, "schema_version": 1 - offset})
