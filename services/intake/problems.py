"""Intake's error responses, worded for the phone as well as for API clients."""

from typing import Any
from uuid import UUID

from fastapi import HTTPException

from common.http import ProblemBody, problem
from services.intake.eligibility import EligibilityDecision

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": description, "model": ProblemBody}
    for code, description in {
        401: "No valid party session or staff token was sent",
        403: "The caller may not do this, or not on this case",
        404: "The case does not exist",
        409: "The case is in a state that does not allow this",
        413: "The video or body is too large",
        422: "The video or the request was rejected, with the reason",
        503: "A dependency did not answer in time; try again",
    }.items()
}
VIDEO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The video file itself, as the raw request body",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in (
                "video/mp4",
                "video/quicktime",
                "video/3gpp",
                "video/webm",
                "video/x-matroska",
            )
        },
    }
}


def problem_response(
    status_code: int, code: str, message: str, message_zh: str
) -> HTTPException:
    return HTTPException(status_code, detail=problem(code, message, message_zh))


def case_not_found(case_id: UUID) -> HTTPException:
    return problem_response(
        404,
        "case_not_found",
        f"case {case_id} does not exist; open a case first",
        "案件不存在，请重新打开短信链接或重新报案。",
    )


def already_submitted() -> HTTPException:
    return problem_response(
        409,
        "case_already_submitted",
        "the case is submitted, so its video can no longer change",
        "案件已提交，视频不能再更改。",
    )


def too_large(limit: int) -> HTTPException:
    return problem_response(
        413,
        "upload_too_large",
        f"the video is larger than {limit // 1024**2} MiB",
        "视频文件太大，请拍摄较短的视频。",
    )


def sent_on_scene(decision: EligibilityDecision) -> HTTPException:
    return problem_response(
        409, "case_sent_on_scene", decision.message, decision.message_zh
    )
