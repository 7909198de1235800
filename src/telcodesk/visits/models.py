"""Models of the visits app."""

from __future__ import annotations
