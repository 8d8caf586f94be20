import pytest

from services.notify.templates import (
    TEMPLATES,
    TemplateError,
    render,
    required_variables,
)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_with_its_variables(template: str) -> None:
    variables = dict.fromkeys(required_variables(template), "X")

    text = render(template, variables)

    assert text.startswith("【定责】")
    assert "{" not in text


def test_missing_variable_is_rejected() -> None:
    with pytest.raises(TemplateError, match=r"misses variables \['share'\]"):
        render("liability_ruled", {"case_number": "1", "plate": "浙A12345"})


def test_unknown_template_is_rejected() -> None:
    with pytest.raises(TemplateError, match="unknown SMS template"):
        render("nonexistent", {})
