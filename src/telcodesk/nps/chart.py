"""The dashboard's trend chart, drawn as inline SVG by the server (no JavaScript).

``trend_chart`` turns the NPS per day or week into coordinates; the template draws
them. The vertical axis is the whole NPS range, −100 to 100, so charts of different
periods compare at a glance; the pack's "good service" threshold is a dashed line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telcodesk.nps.selectors import NpsFigure

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
GRID = (-100, -50, 0, 50, 100)
MAX_X_LABELS = 8


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str
    nps: float
    responses: int


@dataclass(frozen=True)
class ChartAxisLabel:
    x: float
    text: str


@dataclass(frozen=True)
class ChartGridLine:
    y: float
    value: int


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: float
    bottom: float
    points: list[ChartPoint]
    # The line joins consecutive periods with answers; a period without breaks it.
    segments: list[str]
    x_labels: list[ChartAxisLabel]
    grid: list[ChartGridLine]
    threshold: int
    threshold_y: float

    @property
    def is_empty(self) -> bool:
        return not self.points


def _y(value: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return round(TOP + (100 - value) / 200 * inner, 1)


def trend_chart(
    *, periods: list[date], figures: list[NpsFigure], labels: dict[date, str], threshold: int
) -> TrendChart:
    """The chart of ``figures`` (keyed by date) over every period of ``periods``."""
    by_key = {figure.key: figure for figure in figures}
    inner = WIDTH - LEFT - RIGHT
    count = len(periods)
    step = inner / (count - 1) if count > 1 else 0.0

    def x_of(index: int) -> float:
        return round(LEFT + (index * step if count > 1 else inner / 2), 1)

    points: list[ChartPoint] = []
    segments: list[str] = []
    current: list[str] = []
    for index, period in enumerate(periods):
        figure = by_key.get(period)
        value = figure.nps if figure is not None else None
        if figure is None or value is None:
            if len(current) > 1:
                segments.append(" ".join(current))
            current = []
            continue
        point = ChartPoint(
            x=x_of(index),
            y=_y(value),
            label=labels.get(period, period.isoformat()),
            nps=value,
            responses=figure.responses,
        )
        points.append(point)
        current.append(f"{point.x},{point.y}")
    if len(current) > 1:
        segments.append(" ".join(current))
    every = max(1, -(-count // MAX_X_LABELS))
    x_labels = [
        ChartAxisLabel(x=x_of(index), text=period.strftime("%d/%m"))
        for index, period in enumerate(periods)
        if index % every == 0
    ]
    return TrendChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        bottom=HEIGHT - BOTTOM,
        points=points,
        segments=segments,
        x_labels=x_labels,
        grid=[ChartGridLine(y=_y(value), value=value) for value in GRID],
        threshold=threshold,
        threshold_y=_y(max(-100, min(100, threshold))),
    )
