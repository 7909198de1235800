"""Models of the nps app."""

from __future__ import annotations
