"""The ``visits`` section of an organization in an operator pack (being written)."""

from __future__ import annotations

from telcodesk.packs.spec_base import PackModel


class VisitsSpec(PackModel):
    pass
