"""Refusals of the multipart upload API, worded for the phone page as well."""

from fastapi import HTTPException

from services.intake.problems import problem_response
from services.intake.upload_store import Upload

_KIND_ZH = {"video": "视频", "photo": "照片"}


def too_large(kind: str, limit: int) -> HTTPException:
    return problem_response(
        413,
        "upload_too_large",
        f"the {kind} is larger than the {limit // 1024**2} MiB limit",
        f"{_KIND_ZH[kind]}文件太大（超过 {limit // 1024**2} MB），"
        + ("请拍摄较短的视频。" if kind == "video" else "请换一张照片。"),
    )


def type_not_accepted(
    kind: str, content_type: str, accepted: list[str]
) -> HTTPException:
    return problem_response(
        415,
        "content_type_not_accepted",
        f"{content_type!r} is not accepted for a {kind}; send one of "
        f"{', '.join(accepted)}",
        "不支持这种文件格式，"
        + (
            "请上传手机相机录制的视频（MP4、MOV、3GP 或 WebM）。"
            if kind == "video"
            else "请上传 JPEG、PNG 或 HEIC 格式的照片。"
        ),
    )


def video_in_progress(other: Upload | None) -> HTTPException:
    since = (
        "" if other is None else f" (upload {other.upload_id} by {other.uploaded_by})"
    )
    return problem_response(
        409,
        "video_upload_in_progress",
        f"another video upload of this case is in progress{since}; finish or "
        "cancel it first",
        "本案件已有一段视频正在上传，请等它完成或取消后再上传。",
    )


def video_of_other_uploader(uploader: str | None) -> HTTPException:
    return problem_response(
        409,
        "video_already_uploaded",
        f"the case already has its scene video, uploaded by {uploader or 'another'}"
        "; only that uploader may replace it before submission. Add photos instead",
        "本案件已有其他人上传的现场视频，您不能替换。如需补充证据，请上传照片。",
    )


def photo_limit(limit: int) -> HTTPException:
    return problem_response(
        409,
        "photo_limit_reached",
        f"the case already has {limit} photos, the maximum",
        f"照片数量已达上限（{limit} 张），不能再添加。",
    )


def upload_not_found() -> HTTPException:
    return problem_response(
        404,
        "upload_not_found",
        "no such upload for this case; start a new upload",
        "找不到这次上传，请重新选择文件上传。",
    )


def upload_not_active(upload: Upload) -> HTTPException:
    if upload.status in ("completed", "completing"):
        return problem_response(
            409,
            "upload_already_completed",
            f"upload {upload.upload_id} is already {upload.status}; its links "
            "cannot be used again",
            "这个文件已经上传完成，上传链接不能重复使用。",
        )
    if upload.status == "rejected":
        return problem_response(
            409,
            "upload_rejected",
            f"upload {upload.upload_id} was rejected ({upload.rejection}); start "
            "a new upload",
            "这个文件未通过检查，请重新选择文件上传。",
        )
    return problem_response(
        410,
        "upload_expired",
        f"upload {upload.upload_id} is {upload.status}; start a new upload",
        "上传已取消或已过期，请重新选择文件上传。",
    )


def part_number_out_of_range(part_number: int, part_count: int) -> HTTPException:
    return problem_response(
        422,
        "part_number_out_of_range",
        f"part {part_number} is outside this upload's parts 1 to {part_count}",
        "上传分段编号有误，请重新上传。",
    )


def content_mismatch(kind: str, declared: str, found: str | None) -> HTTPException:
    seen = found or "no known format"
    return problem_response(
        422,
        "content_mismatch",
        f"the file was declared {declared} but its bytes are {seen}; the file "
        "was deleted, upload the original " + ("video" if kind == "video" else "photo"),
        f"文件内容与{_KIND_ZH[kind]}格式不符，已删除，请重新选择"
        + ("手机相机录制的视频。" if kind == "video" else "照片。"),
    )


def consent_required() -> HTTPException:
    return problem_response(
        409,
        "consent_required",
        "confirm consent to the remote procedure before uploading",
        "请先阅读并同意远程处理事故的说明，再上传。",
    )
