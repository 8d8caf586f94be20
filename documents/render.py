"""Render a ruling document as a PDF with Chinese text.

reportlab embeds a subset of a TrueType CJK font (WenQuanYi Zen Hei from Debian's
fonts-wqy-zenhei by default) with a ToUnicode map, so the text can be extracted and
searched. Rendering runs with reportlab's invariant mode: no creation time and no
random file id, so the same content always gives the same bytes.
"""

import io
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table

from common.working_days import CHINA_TIME, RECONSIDERATION_WORKING_DAYS
from contracts.documents import (
    DocumentKind,
    PartyAnswerKind,
    ReconsiderationOutcome,
    RulingDocumentContent,
)
from contracts.insurers import KNOWN_INSURERS
from contracts.ruling import LiabilityCategory

DEFAULT_FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT_NAME = "DingzeCJK"
PARTY_NAMES_ZH = "甲乙丙丁戊己庚辛壬癸"
CATEGORY_ZH = {
    LiabilityCategory.FULL: "全部责任",
    LiabilityCategory.PRIMARY: "主要责任",
    LiabilityCategory.EQUAL: "同等责任",
    LiabilityCategory.SECONDARY: "次要责任",
    LiabilityCategory.NONE: "无责任",
}
TITLES = {
    DocumentKind.RULING: "道路交通事故认定书（简易程序）",
    DocumentKind.RECONSIDERATION: "道路交通事故认定复核结论",
}


class FontMissingError(RuntimeError):
    """The CJK font file is not installed."""


def party_name_zh(party_id: str) -> str:
    """Name party A, B, C… as 甲, 乙, 丙… the way Chinese documents do."""
    return "当事人" + PARTY_NAMES_ZH[ord(party_id) - ord("A")]


def register_font(font_file: Path) -> None:
    """Register the font once per process; the first file given is the one used."""
    if not font_file.exists():
        raise FontMissingError(
            f"CJK font {font_file} is missing; install it with make fonts "
            "(Debian package fonts-wqy-zenhei) or set DINGZE_DOCUMENT_FONT_FILE"
        )
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_file), subfontIndex=0))


def render_pdf(
    content: RulingDocumentContent,
    verification_code: str,
    verify_url: str,
    font_file: Path = DEFAULT_FONT_FILE,
) -> bytes:
    """Return the PDF of a ruling document."""
    register_font(font_file)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{TITLES[content.kind]} {content.document_number}",
        author="定责平台",
        invariant=1,
    )
    document.build(_story(content, verification_code, verify_url))
    return buffer.getvalue()


_BODY = ParagraphStyle(
    "body", fontName=FONT_NAME, fontSize=10.5, leading=16, wordWrap="CJK"
)
_HEADING = ParagraphStyle(
    "heading", parent=_BODY, fontSize=12, leading=20, spaceBefore=6
)
_TITLE = ParagraphStyle(
    "title", parent=_BODY, fontSize=17, leading=26, alignment=1, spaceAfter=6
)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=12)


def _text(value: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def _time_zh(value: datetime) -> str:
    local = value.astimezone(CHINA_TIME)
    return f"{local:%Y年%m月%d日 %H时%M分}"


def _end_of_day_zh(deadline: datetime) -> str:
    """Print a midnight deadline as the end of the day before, as 24时."""
    local = deadline.astimezone(CHINA_TIME)
    if local.hour or local.minute:
        return _time_zh(deadline)
    day = local.date() - timedelta(days=1)
    return f"{day:%Y年%m月%d日}24时"


def _story(
    content: RulingDocumentContent, code: str, verify_url: str
) -> list[Flowable]:
    story: list[Flowable] = [
        _text(TITLES[content.kind], _TITLE),
        _text(f"文书编号：{content.document_number}　　第 {content.version} 版"),
        _text(f"验证码：{code[:4]}-{code[4:]}"),
        Spacer(1, 4 * mm),
        _text(f"事故时间：{_time_zh(content.accident_at)}（北京时间）"),
        _text(
            f"事故地点：{content.location.address}（北纬 "
            f"{content.location.latitude:.5f}，东经 {content.location.longitude:.5f}）"
        ),
        _text("当事人", _HEADING),
        _parties_table(content),
    ]
    if content.kind is DocumentKind.RECONSIDERATION:
        story += _reconsideration_lines(content)
    story += _ruling_lines(content)
    story += _answers_lines(content)
    story += [
        _text("证据", _HEADING),
        *[
            _text(f"现场视频 SHA-256：{digest}", _SMALL)
            for digest in content.evidence_sha256
        ],
        _text("复核", _HEADING),
        _text(_reconsideration_notice(content)),
        Spacer(1, 6 * mm),
        _text(
            "本文书由定责平台以 Ed25519 密钥对文件的 SHA-256 签名。"
            f"凭文书编号和验证码可在 {verify_url} 核验文件是否真实、未被改动。",
            _SMALL,
        ),
    ]
    return story


def _parties_table(content: RulingDocumentContent) -> Table:
    rows: list[list[Paragraph | str]] = [
        ["当事人", "姓名", "号牌", "保险公司", "保单号", "责任", "比例"]
    ]
    for party in content.parties:
        liability = next(
            item
            for item in content.ruling.liabilities
            if item.party_id == party.party_id
        )
        rows.append(
            [
                party_name_zh(party.party_id)[3:],
                _text(party.name),
                party.plate,
                _text(KNOWN_INSURERS.get(party.insurer_code, party.insurer_code)),
                _text(party.policy_number, _SMALL),
                CATEGORY_ZH[liability.category],
                f"{liability.share}%",
            ]
        )
    widths = [14 * mm, 24 * mm, 24 * mm, 34 * mm, 34 * mm, 22 * mm, 16 * mm]
    return Table(
        rows,
        colWidths=widths,
        style=[
            ("FONT", (0, 0), (-1, -1), FONT_NAME, 9.5),
            ("GRID", (0, 0), (-1, -1), 0.5, "#555555"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )


def _ruling_lines(content: RulingDocumentContent) -> list[Flowable]:
    ruling = content.ruling
    lines: list[Flowable] = [
        _text("事故事实", _HEADING),
        _text(ruling.facts),
    ]
    if ruling.accident_type:
        name = content.accident_type_name_zh or ruling.accident_type
        lines.append(_text(f"事故类型：{name}"))
    if ruling.departure_reason:
        lines.append(
            _text(f"未采用该类型常见责任划分的理由：{ruling.departure_reason}")
        )
    lines += [
        _text("责任认定", _HEADING),
        *[
            _text(
                f"{party_name_zh(item.party_id)}承担{CATEGORY_ZH[item.category]}"
                f"（{item.share}%）。"
            )
            for item in ruling.liabilities
        ],
        _text(f"适用依据：{ruling.rule_applied}"),
        _text(f"认定民警警号：{ruling.officer_id}"),
        _text(f"认定时间：{_time_zh(content.issued_at)}"),
    ]
    return lines


def _reconsideration_lines(content: RulingDocumentContent) -> list[Flowable]:
    outcome = (
        "维持原认定"
        if content.reconsideration_outcome is ReconsiderationOutcome.CONFIRMED
        else "撤销原认定，重新认定如下"
    )
    lines: list[Flowable] = [
        _text("复核结论", _HEADING),
        _text(f"原认定书编号：{content.replaces_document}"),
        _text(f"复核结论：{outcome}。"),
    ]
    if content.reconsideration_reason:
        lines.append(_text(f"复核理由：{content.reconsideration_reason}"))
    return lines


def _answers_lines(content: RulingDocumentContent) -> list[Flowable]:
    if not content.answers:
        return []
    lines: list[Flowable] = [_text("当事人签收", _HEADING)]
    for answer in content.answers:
        name = party_name_zh(answer.party_id)
        when = _time_zh(answer.answered_at)
        if answer.answer is PartyAnswerKind.ACKNOWLEDGED:
            lines.append(_text(f"{name}于{when}以短信验证码确认签收。"))
        else:
            reason = f"，理由：{answer.reason}" if answer.reason else ""
            lines.append(_text(f"{name}于{when}拒绝签收{reason}。"))
    return lines


def _reconsideration_notice(content: RulingDocumentContent) -> str:
    if content.kind is DocumentKind.RECONSIDERATION:
        return "本复核结论为最终认定，不再受理复核申请。"
    deadline = content.reconsideration_deadline
    by_when = f"，即{_end_of_day_zh(deadline)}前" if deadline is not None else ""
    return (
        f"当事人对本认定有异议的，可以自本文书送达之日起{RECONSIDERATION_WORKING_DAYS}"
        f"个工作日内{by_when}，通过短信中的链接申请复核。每起事故只受理一次复核申请，"
        "复核由原认定民警以外的民警办理。"
    )
