"""Validation of the codes the platform lives by: statistical division codes (统计用区划代码),
grid codes, mainland mobile and landline numbers, and resident identity numbers (GB 11643).

Each check returns None when the value is good, or a sentence a person can act on.
"""

import re
from enum import StrEnum

from zhili.kit.i18n import _


class RegionLevel(StrEnum):
    city = "city"
    county = "county"
    town = "town"
    village = "village"


LEVEL_DEPTH = {RegionLevel.city: 0, RegionLevel.county: 1, RegionLevel.town: 2, RegionLevel.village: 3}
# Significant digits of a code at each level: the prefix shared by its whole subtree.
PREFIX_LEN = {RegionLevel.city: 4, RegionLevel.county: 6, RegionLevel.town: 9, RegionLevel.village: 12}

# Province-level codes of GB/T 2260.
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}


class TownKind(StrEnum):
    street = "street"  # 街道 001–099
    town = "town"  # 镇 100–199
    township = "township"  # 乡 200–399


class VillageKind(StrEnum):
    community = "community"  # 居委会 / 社区 001–199
    village = "village"  # 村委会 200–399


def region_level(code: str) -> RegionLevel:
    """Level of a well-formed 12-digit code (call `check_region_code` first)."""
    if code[9:] != "000":
        return RegionLevel.village
    if code[6:9] != "000":
        return RegionLevel.town
    if code[4:6] != "00":
        return RegionLevel.county
    return RegionLevel.city


def check_region_code(code: str) -> str | None:
    if not re.fullmatch(r"\d{12}", code or ""):
        return _("区划代码应为 12 位数字（6 位县级 + 3 位乡级 + 3 位村级），例如 330122101201")
    if code[:2] not in PROVINCES:
        return _("区划代码前两位 {p} 不是有效的省级代码", p=code[:2])
    if code[2:4] == "00":
        return _("区划代码第 3–4 位（地市级）不能为 00")
    town = int(code[6:9])
    village = int(code[9:])
    if code[4:6] == "00" and (town or village):
        return _("县级代码（第 5–6 位）为 00 时，乡级和村级代码也必须为 000")
    if town > 399:
        return _("乡级代码 {t} 超出范围：街道 001–099，镇 100–199，乡 200–399", t=code[6:9])
    if village and not town:
        return _("村级代码非 000 时，乡级代码不能为 000")
    if village > 399:
        return _("村级代码 {v} 超出范围：社区 001–199，村 200–399", v=code[9:])
    return None


def parent_code(code: str) -> str | None:
    match region_level(code):
        case RegionLevel.village:
            return code[:9] + "000"
        case RegionLevel.town:
            return code[:6] + "000000"
        case RegionLevel.county:
            return code[:4] + "00000000"
        case RegionLevel.city:
            return None


def ancestor_codes(code: str) -> tuple[str, ...]:
    """The codes of every region above `code`, nearest first (the codes are hierarchical)."""
    codes: list[str] = []
    parent = parent_code(code)
    while parent is not None:
        codes.append(parent)
        parent = parent_code(parent)
    return tuple(codes)


def subtree_prefix(code: str) -> str:
    return code[: PREFIX_LEN[region_level(code)]]


def town_kind(code: str) -> TownKind:
    n = int(code[6:9])
    return TownKind.street if n < 100 else TownKind.town if n < 200 else TownKind.township


def village_kind(code: str) -> VillageKind:
    return VillageKind.community if int(code[9:]) < 200 else VillageKind.village


def check_grid_code(code: str) -> str | None:
    if not re.fullmatch(r"\d{15}", code or ""):
        return _("网格编码应为 15 位数字：12 位社区（村）区划代码 + 3 位顺序号，例如 330122101201001")
    problem = check_region_code(code[:12])
    if problem:
        return _("网格编码的前 12 位不是有效的区划代码：{p}", p=problem)
    if region_level(code[:12]) != RegionLevel.village:
        return _("网格编码的前 12 位必须是社区（村）级区划代码，后三位不能为 000")
    if code[12:] == "000":
        return _("网格顺序号（后 3 位）应在 001–999 之间")
    return None


def check_phone(phone: str) -> str | None:
    """Mainland mobile (1[3-9]x, 11 digits) or landline with area code (0xx-xxxxxxx[x])."""
    value = (phone or "").replace(" ", "")
    if re.fullmatch(r"1[3-9]\d{9}", value):
        return None
    if re.fullmatch(r"0\d{2,3}-?\d{7,8}", value):
        return None
    if re.fullmatch(r"12345|110|119|120|122", value):
        return None
    return _("电话号码应为 11 位手机号（如 13800138000）或带区号的座机（如 0571-87654321）")


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def check_id_number(value: str) -> str | None:
    """Resident identity number, GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check digit."""
    v = (value or "").upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        return _("身份证号应为 18 位：17 位数字加一位校验码（数字或 X）")
    if v[:2] not in PROVINCES:
        return _("身份证号前两位不是有效的省级代码")
    if id_check_digit(v[:17]) != v[17]:
        return _("身份证号校验码不正确，请核对号码")
    return None
