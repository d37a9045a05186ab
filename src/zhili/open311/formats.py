"""The two representations of every GeoReport v2 document: JSON, and XML with the spec's element names.

A document is plain data (dicts, lists, strings, numbers, booleans, None) built once by the service; JSON
dumps it as it is, XML names each list's items by the singular the spec uses (`services` → `service`,
`service_requests` → `request`, `attributes` → `attribute`, …).
"""

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import Response

from zhili.errors import NotFound
from zhili.kit.calendar import SHANGHAI
from zhili.kit.i18n import _


class Format(StrEnum):
    json = "json"
    xml = "xml"


MEDIA_TYPES = {Format.json: "application/json; charset=utf-8", Format.xml: "text/xml; charset=utf-8"}
# As discovery lists them (the spec's examples name the XML type text/xml).
DISCOVERY_FORMATS = ["text/xml", "application/json"]
# The element of each item of a list, by the list's name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry at all, even escaped: dropped from text (they may arrive in a form).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_format(value: str) -> Format:
    try:
        return Format(value)
    except ValueError:
        raise NotFound(_("不支持的格式 .{f}：请用 .json 或 .xml", f=value[:20])) from None


def timestamp(value: datetime | None) -> str | None:
    """W3C / ISO 8601 with the offset of the platform's time zone, e.g. 2026-11-24T17:30:00+08:00."""
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds") if value else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item = ITEM_NAMES[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Any) -> str:
    element = ET.Element(root)
    _fill(element, document)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode")


def respond(fmt: Format, root: str, document: Any, status_code: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    """`root` names the XML root element (a list's items take their singular from ITEM_NAMES)."""
    body = to_xml(root, document) if fmt is Format.xml else json.dumps(document, ensure_ascii=False)
    return Response(body, status_code=status_code, media_type=MEDIA_TYPES[fmt], headers=headers)
