"""Decision support for officers: the accident-type table and the checks against it.

The table is data (``accident_types.json`` here by default), so a province replaces it
with its own file through ``DINGZE_ACCIDENT_TYPES_FILE`` without a code change.
"""

from pathlib import Path

from contracts.accident_types import AccidentTypeTable
from contracts.ruling import RulingDraft, RulingProblem

DEFAULT_TABLE_FILE = Path(__file__).with_name("accident_types.json")


class AccidentTypeError(ValueError):
    """A ruling that does not fit the accident-type table, with a stable code."""

    def __init__(self, code: str, field: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message
        self.message_zh = message_zh

    def as_problem(self) -> RulingProblem:
        """Return the error in the form the workbench shows next to the field."""
        return RulingProblem(
            code=self.code,
            field=self.field,
            message=self.message,
            message_zh=self.message_zh,
        )


def load_accident_types(path: Path | None = None) -> AccidentTypeTable:
    """Read and validate a table file; a broken file fails at start-up, not later."""
    source = path or DEFAULT_TABLE_FILE
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(
            f"cannot read the accident-type table {source}: {error.strerror}"
        ) from error
    return AccidentTypeTable.model_validate_json(text)


def check_ruling_type(ruling: RulingDraft, table: AccidentTypeTable) -> None:
    """Raise AccidentTypeError unless the ruling names a known type and explains
    any departure from that type's suggested liability.
    """
    if ruling.accident_type is None:
        raise AccidentTypeError(
            "accident_type_required",
            "accident_type",
            "pick the accident type from GET /accident-types and send its code "
            "as accident_type",
            "请选择事故类型。",
        )
    accident_type = table.find(ruling.accident_type)
    if accident_type is None:
        raise AccidentTypeError(
            "accident_type_unknown",
            "accident_type",
            f"accident type {ruling.accident_type!r} is not in the table "
            f"{table.version}; known codes: "
            f"{', '.join(item.code for item in table.types)}",
            "事故类型不在本地事故类型表中，请重新选择。",
        )
    if accident_type.departs_from_suggestion(ruling.liabilities) and (
        not ruling.departure_reason
    ):
        suggested = "/".join(str(item.share) for item in accident_type.suggested)
        raise AccidentTypeError(
            "departure_reason_required",
            "departure_reason",
            f"the liability differs from the {accident_type.code} suggestion "
            f"({suggested}); give the reason as departure_reason",
            f"责任划分与“{accident_type.name_zh}”的常见划分（{suggested}）不同，"
            "请填写理由。",
        )
