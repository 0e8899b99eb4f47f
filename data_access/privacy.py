"""Appellants' personal data: masking, and the one switch that allows showing it.

Names, phone numbers and exact addresses of appellants are personal data: a
big screen in a public hall shows none of them. Every case list, case detail
and export masks them unless it is told ``show_personal=True``; only the case
detail page passes ``may_show_personal_data(grant)``.

Masks:

* name     张三 → 张*; 欧阳娜娜 → 欧阳** (compound surnames); John Smith → J*** S****
* phone    13812345678 → 138****5678; otherwise the first 3 and last 2 digits
           kept, separators kept (0412-1234567 → 041*-*****67)
* address  kept up to the building (…12号幸福小区3栋), unit, floor and room
           dropped; without a building, up to the road number (…路12号);
           otherwise the first 12 characters and "…"
* text     free text (summaries, notes): phone numbers, ID numbers and the
           appellant's own name masked
"""

from __future__ import annotations

import math
import re

from .config import load_settings

STAR = "*"

# two-character surnames (复姓): the first two characters of the name are kept
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯",
    "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "万俟", "呼延", "澹台", "钟离", "申屠", "太史", "闻人",
    "赫连", "百里", "东郭", "拓跋", "第五", "公冶", "宗政", "濮阳", "淳于", "单于", "仲孙", "乐正", "司空",
    "亓官", "司寇", "左丘", "梁丘", "东门", "羊舌", "微生", "公羊", "谷梁", "段干", "完颜",
))


def may_show_personal_data(grant) -> bool:
    """Whether a case's detail may show appellants' personal data unmasked to this person.

    Only roles that may see it (``access.Grant.personal_data``: city, district
    and street staff, never a kiosk or an administrator), only on a case's
    detail (lists and exports are always masked), and only inside their region
    (``cached`` refuses an appeal outside it). ``APPEALS_SHOW_PERSONAL_DATA``
    (default on) can switch it off for a whole deployment, such as a demo.
    """
    return bool(getattr(grant, "personal_data", False)) and load_settings().show_personal_data


def _missing(value) -> bool:
    """None, NaN or pandas' NA: no value (a DataFrame's missing string is NaN in pandas 3)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


# ---------------------------------------------------------------- names ---

def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 张三丰 → 张**, 欧阳娜娜 → 欧阳**; a single character keeps it and gains a star."""
    if _missing(name):
        return None
    text = str(name).strip()
    if not text:
        return text
    if any(ch.isspace() for ch in text):  # a Latin name: the first letter of each word
        return " ".join(w[0] + STAR * (len(w) - 1) for w in text.split())
    keep = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    return text[:keep] + STAR * max(len(text) - keep, 1)


# --------------------------------------------------------------- phones ---

_DIGIT = re.compile(r"\d")


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; other numbers keep their first 3 and last 2 digits.

    Separators (spaces, hyphens, brackets) stay where they are. A Chinese
    mobile number with its country code (+86 / 0086) keeps the code. Short
    numbers (under 7 digits) keep only their first digit. Text without any
    digit is not a number: it becomes "***".
    """
    if _missing(phone):
        return None
    text = str(phone).strip()
    if not text:
        return text
    digits = "".join(_DIGIT.findall(text))
    if not digits:
        return STAR * 3
    mobile = re.fullmatch(r"(?:\+?86|0086)?[\s-]*(1[3-9]\d)[\s-]*(\d{4})[\s-]*(\d{4})", text)
    if mobile:
        prefix = "+86 " if len(digits) > 11 else ""
        return f"{prefix}{mobile.group(1)}****{mobile.group(3)}"
    n = len(digits)
    head, tail = (3, 2) if n >= 7 else (1, 0)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if seen < head or seen >= n - tail else STAR)
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------ addresses ---

_NUM = r"[0-9０-９A-Za-z一二三四五六七八九十百零〇甲乙丙丁东西南北]"
# a building: 3栋, 5号楼, 12幢, A座, 7楼 (the first one in the address)
_BUILDING = re.compile(rf"{_NUM}+(?:号楼|栋|幢|座|楼)")
# the road (or lane) number: 12号, 12-3号
_ROAD_NUMBER = re.compile(r"[0-9０-９]+(?:[-－—][0-9０-９]+)*号")
# where the details start when there is no building or road number: 2单元, 502室, 5层, 3-2-501, 201户
_DETAIL = re.compile(rf"{_NUM}*(?:单元|室|层|户)|[0-9０-９]+(?:[-－][0-9０-９]+)+"
                     r"|[\s,]*(?:\b(?:apt|apartment|unit|suite|ste|room|rm|floor|fl)\b\.?|#)", re.IGNORECASE)
ADDRESS_KEEP = 12


def mask_address(address: str | None) -> str | None:
    """The address up to the building; without one, up to the road number; else 12 characters and "…".

    "铁东区胜利街道光明社区建设路12号幸福小区3栋2单元502室" → "铁东区胜利街道光明社区建设路12号幸福小区3栋".
    """
    if _missing(address):
        return None
    text = str(address).strip()
    if not text:
        return text
    found = _BUILDING.search(text)
    if found:
        return text[:found.end()]
    found = _ROAD_NUMBER.search(text)
    if found:
        return text[:found.end()]
    found = _DETAIL.search(text)
    if found:
        text = text[:found.start()].rstrip(" ,，-")
        return text[:ADDRESS_KEEP] + "…"
    return text if len(text) <= ADDRESS_KEEP else text[:ADDRESS_KEEP] + "…"


# ------------------------------------------------------------ free text ---

_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE_IN_TEXT = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_text(text: str | None, names: tuple[str | None, ...] = ()) -> str | None:
    """Free text with phone numbers, ID card numbers and the given full names masked."""
    if _missing(text):
        return None
    out = str(text)
    out = _ID_IN_TEXT.sub(lambda m: m.group(1) + STAR * 8 + m.group(2), out)
    out = _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", out)
    out = _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), out)
    for name in names:
        if not _missing(name) and len(str(name).strip()) >= 2:
            out = out.replace(str(name).strip(), mask_name(name))
    return out
