"""Every user-facing string is translated into Spanish and Brazilian Portuguese."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "src" / "telcodesk" / "locale"


@pytest.mark.parametrize("language", ["es", "pt_BR"])
def test_the_catalog_has_no_untranslated_or_fuzzy_entries(language: str) -> None:
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = [
        message.id
        for message in catalog
        if message.id
        and (
            message.fuzzy
            or not message.string
            or (isinstance(message.string, tuple) and not all(message.string))
        )
    ]
    assert missing == [], f"{len(missing)} entries need a translation, e.g. {missing[:5]}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "Clientes"), ("pt-br", "Clientes"), ("en", "Customers")],
)
def test_the_compiled_catalogs_are_active(language: str, expected: str) -> None:
    with translation.override(language):
        assert translation.gettext("Customers") == expected
