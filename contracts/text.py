"""Text fields as people type them on phones, checked before anything stores them."""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# Line breaks and tabs are fine in long free text. Every other control or format
# character (NUL, zero-width and bidirectional marks), unassigned or private code
# point, and Unicode line or paragraph separator is rejected.
_ALLOWED_CONTROLS = frozenset("\n\t")
_REJECTED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _check_characters(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text contains an invalid Unicode character") from None
    for character in value:
        if character in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(character)
        if category in _REJECTED_CATEGORIES:
            raise ValueError(
                f"text contains the control character U+{ord(character):04X}; "
                "remove it and send again"
            )
    return value


def _check_visible(value: str) -> str:
    if value.isspace() or not value:
        raise ValueError("text must not be blank")
    # A combining mark needs a character before it to attach to.
    if unicodedata.category(value[0]).startswith("M"):
        raise ValueError("text must not start with a combining mark")
    return value


CheckedCharacters = AfterValidator(_check_characters)

# One line of visible text, trimmed; give its maximum length with Field(max_length=…).
OneLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    CheckedCharacters,
    AfterValidator(_check_visible),
]

# Free text that may span lines or stay empty.
MultiLine = Annotated[str, StringConstraints(strip_whitespace=True), CheckedCharacters]
