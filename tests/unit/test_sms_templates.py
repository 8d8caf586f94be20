import pytest

from services.notify.templates import (
    TEMPLATES,
    TemplateError,
    render,
    render_for_record,
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


def test_record_hides_code_and_link() -> None:
    variables = {
        "code": "042553",
        "minutes": "5",
        "case_number": "C1",
        "plate": "浙A12345",
        "link": "https://dingze.example/phone/#t=secret-token",
    }

    code_text = render_for_record("party_access_code", variables)
    link_text = render_for_record("case_link", variables)

    assert "042553" not in code_text
    assert "******" in code_text
    assert "secret-token" not in link_text
    assert "浙A12345" in link_text
