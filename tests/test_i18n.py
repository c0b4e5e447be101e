import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[1] / "testimonies" / "locale"


def entries(po: Path) -> list[tuple[str, str, str]]:
    """(flags, msgid, msgstr) of each entry of a .po file, the header left out."""
    found = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        flags = " ".join(re.findall(r"^#, (.*)$", block, re.M))
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        join = "".join
        text_id = join(re.findall(r'"(.*)"', msgid.group(1)))
        if text_id:
            found.append((flags, text_id, join(re.findall(r'"(.*)"', msgstr.group(1)))))
    return found


def test_every_french_string_is_translated_and_none_is_fuzzy():
    po = entries(LOCALE / "fr" / "LC_MESSAGES" / "django.po")
    assert len(po) > 100
    assert [msgid for flags, msgid, msgstr in po if not msgstr] == []
    assert [msgid for flags, msgid, msgstr in po if "fuzzy" in flags] == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_compiled_catalogue_is_the_one_in_use(language):
    with translation.override(language):
        shown = translation.gettext("[name removed]")
    assert shown == {"fr": "[nom retiré]", "en": "[name removed]"}[language]
