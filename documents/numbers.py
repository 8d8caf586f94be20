"""Document numbers: the issue date in China time and the case id's first 8 digits."""

from datetime import datetime
from uuid import UUID

from common.working_days import CHINA_TIME

RECONSIDERATION_SUFFIX = "-F"


def ruling_document_number(case_id: UUID, ruled_at: datetime) -> str:
    """Number the first ruling of a case, for example DZ20261204-1A2B3C4D."""
    day = ruled_at.astimezone(CHINA_TIME)
    return f"DZ{day:%Y%m%d}-{case_id.hex[:8].upper()}"


def reconsideration_document_number(ruling_number: str) -> str:
    """Number a reconsideration outcome after the ruling it reviews (复核, F)."""
    return ruling_number + RECONSIDERATION_SUFFIX
