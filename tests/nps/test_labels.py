"""WhatsApp refuses a list whose button label passes 20 characters: the survey's
translated labels must fit in every language (Spanish once did not: "Elija la
calificación" is 21)."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext


@pytest.mark.parametrize("language", ["en", "es", "pt-br"])
def test_the_score_list_button_fits_whatsapps_20_characters(language: str) -> None:
    with translation.override(language):
        label = gettext("Choose the score")
    assert 1 <= len(label) <= 20, label
