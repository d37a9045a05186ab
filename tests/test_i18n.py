"""Every Chinese string wrapped in _() in code or templates has an English translation."""

import re
from pathlib import Path

from zhili.kit import i18n

SRC = Path(__file__).resolve().parent.parent / "src" / "zhili"
# _("…") in Python and {{ _("…") }} in templates; the first argument must be a literal.
MSGID = re.compile(r"""(?<![\w.])N?_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
CJK = re.compile(r"[\u4e00-\u9fff]")


def message_ids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted([*SRC.rglob("*.py"), *SRC.rglob("*.html")]):
        for match in MSGID.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            text = text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            if CJK.search(text):
                found.setdefault(text, str(path.relative_to(SRC)))
    return found


def test_every_message_has_an_english_translation():
    catalog = i18n._catalog("en")
    missing = {m: where for m, where in message_ids().items() if m not in catalog}
    assert not missing, "add to src/zhili/locale/en/LC_MESSAGES/*.po:\n" + "\n".join(
        f"{where}: {m}" for m, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_translations_keep_their_placeholders():
    catalog = i18n._catalog("en")
    for msgid, msgstr in catalog.items():
        assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", msgstr)), msgid
