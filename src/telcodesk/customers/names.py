"""Name normalization shared by search, the services and the bulk loaders."""

from __future__ import annotations

import re

from unidecode import unidecode

_NON_WORD = re.compile(r"[^a-z0-9]+")
MIN_TYPO_TOKEN = 4  # shorter tokens are matched exactly or by prefix, not by edits
MAX_KEY_LEN = 40


def normalize_name(text: str) -> str:
    """Lower-case, accent-free, single-spaced.

    ``'  José  MÜLLER-Peña '`` -> ``'jose muller pena'``.
    """
    return _NON_WORD.sub(" ", unidecode(text or "").lower()).strip()


def name_tokens(text: str) -> list[str]:
    return [token for token in normalize_name(text).split(" ") if token]


def deletion_keys(token: str) -> set[str]:
    """The token and every string made by deleting one character from it."""
    token = token[:MAX_KEY_LEN]
    keys = {token}
    if len(token) >= MIN_TYPO_TOKEN:
        keys.update(token[:i] + token[i + 1 :] for i in range(len(token)))
    return keys


def name_keys(search_name: str) -> set[tuple[str, int]]:
    """(key, token length) pairs to index for one customer's normalized name."""
    keys: set[tuple[str, int]] = set()
    for token in name_tokens(search_name):
        for key in deletion_keys(token):
            keys.add((key, len(token)))
    return keys
