"""Checks of the numbers base data carries, beyond those in kit.codes: the birth date inside an
identity number, and the unified social credit code of units (GB 32100-2015)."""

import re
from datetime import date

from zhili.kit.codes import check_id_number, check_phone
from zhili.kit.i18n import _

# GB 32100-2015: 31 characters (no I, O, S, V, Z), 17 weighted, the 18th a MOD 31 check character.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def check_credit_code(value: str) -> str | None:
    v = (value or "").strip().upper()
    if not re.fullmatch(f"[{CREDIT_CHARS}]{{18}}", v):
        return _("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z），例如 91330122MA2B3C4D5J")
    if not v[2:8].isdigit():
        return _("统一社会信用代码第 3–8 位应为登记机关的行政区划代码")
    if credit_check_char(v[:17]) != v[17]:
        return _("统一社会信用代码校验位不正确，请核对")
    return None


def birth_date_of(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def gender_of(id_number: str) -> str:
    """The 17th digit: odd for men, even for women."""
    return "M" if int(id_number[16]) % 2 else "F"


def check_resident_id(value: str, today: date | None = None) -> str | None:
    """GB 11643 check digit, and a birth date that exists and is not in the future."""
    problem = check_id_number(value)
    if problem:
        return problem
    born = birth_date_of(value)
    if born is None:
        return _("身份证号中的出生日期（第 7–14 位）不是有效日期")
    if born > (today or date.today()) or born.year < 1890:
        return _("身份证号中的出生日期 {d} 不合理", d=born.isoformat())
    return None


def normal_id_number(value: str) -> str:
    return (value or "").strip().upper()


def normal_phone(value: str) -> str:
    return (value or "").replace(" ", "").strip()


def phone_problem(value: str) -> str | None:
    return check_phone(value) if value else None
