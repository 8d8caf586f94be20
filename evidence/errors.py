"""The rejection a video check raises, with text for the API and for the phone."""


class VideoRejectedError(Exception):
    """The file cannot serve as evidence; ``message_zh`` is what the phone shows."""

    def __init__(self, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_zh = message_zh


def still_image_error(description: str) -> VideoRejectedError:
    return VideoRejectedError(
        "still_image",
        f"the file is {description}, not a video; record a video that walks "
        "around the vehicles",
        "您上传的是图片，不是视频。请用手机相机的录像模式绕车辆拍摄一段视频。",
    )
