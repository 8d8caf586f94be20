"""Read back what a rendered ruling document prints, from the PDF's text layer.

The renderer embeds the font with its Unicode map (see ``documents.render``), so
pypdf extracts the printed text as it reads on paper.
"""

import io
import re

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from documents.keys import CODE_LENGTH

# The code is printed as 验证码：ABCD-EFGH in base32 letters and digits.
_HALF = CODE_LENGTH // 2
_CODE_LINE = re.compile(rf"验证码：\s*([A-Z2-7]{{{_HALF}}})-([A-Z2-7]{{{_HALF}}})")


def printed_verification_code(pdf: bytes) -> str | None:
    """Return the verification code printed on the first page, or None if absent.

    A file that is not a readable PDF also returns None.
    """
    try:
        reader = PdfReader(io.BytesIO(pdf))
        text = reader.pages[0].extract_text() if reader.pages else ""
    except (PdfReadError, ValueError):
        return None
    match = _CODE_LINE.search(text)
    return None if match is None else match.group(1) + match.group(2)
