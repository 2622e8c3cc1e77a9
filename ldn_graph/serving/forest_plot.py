"""Forest plots: study results as estimates with intervals on a shared scale, drawn on the server.

A plot groups results that share a statistic, because only those share a scale and a line of no
effect: 0 for differences, 1 for ratios (drawn on a log scale, so that 0.5 and 2 lie equally far from
it). Results that compare nothing (a change within one group, a count, a share) have no line of no
effect and are left to the tables. The geometry is computed here, in viewBox units; the template
only draws it, so the page needs no script or inline style.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from ldn_graph.serving.entity_page import Concept
from ldn_graph.serving.evidence_page import Result, plain_number
from ldn_graph.vocab.prefixes import ONTOLOGY

# Which statistics compare two groups, and where each has no effect. Ratios are drawn on a log scale.
DIFFERENCES = {
    ONTOLOGY + term
    for term in (
        "MeanDifference",
        "StandardisedMeanDifference",
        "RiskDifference",
        "MedianDifference",
        "DifferenceInDifferences",
    )
}
RATIOS = {ONTOLOGY + "RiskRatio", ONTOLOGY + "OddsRatio"}

# Positions are percentages of the picture's width: SVG places percentage coordinates without
# stretching text or markers, so one row's picture fits any screen width, from a phone up.
WIDTH = 100
PAD = 4


@dataclass(frozen=True)
class Row:
    result: Result
    x: float  # the estimate
    low: float | None  # the interval, where the source gives one
    high: float | None


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Panel:
    """One forest plot: the results sharing one statistic, each a row on the same scale."""

    statistic: Concept
    log_scale: bool
    null_value: str  # "0" or "1"
    null_x: float
    ticks: tuple[Tick, ...]
    rows: tuple[Row, ...]


def panels(results: tuple[Result, ...] | list[Result]) -> tuple[Panel, ...]:
    """A forest plot for each statistic among ``results`` that compares groups."""
    by_statistic: dict[str, list[Result]] = {}
    concepts: dict[str, Concept] = {}
    for result in results:
        if result.statistic is None or result.value is None:
            continue
        iri = result.statistic.iri
        if iri in DIFFERENCES or (iri in RATIOS and result.value > 0):
            by_statistic.setdefault(iri, []).append(result)
            concepts[iri] = result.statistic
    return tuple(
        _panel(concepts[iri], rows, iri in RATIOS)
        for iri, rows in sorted(by_statistic.items(), key=lambda item: concepts[item[0]].label)
    )


def _panel(statistic: Concept, results: list[Result], log_scale: bool) -> Panel:
    def scaled(value: Decimal) -> float:
        return math.log10(float(value)) if log_scale else float(value)

    null = 0.0  # log10(1) and 0 alike
    values = [null]
    for r in results:
        values.append(scaled(r.value))
        for bound in (r.ci_lower, r.ci_upper):
            if bound is not None and (not log_scale or bound > 0):
                values.append(scaled(bound))
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    low, high = low - span * 0.08, high + span * 0.08

    def x(value: float) -> float:
        return round(PAD + (value - low) / (high - low) * (WIDTH - 2 * PAD), 2)

    rows = []
    for r in results:
        bounds = []
        for bound in (r.ci_lower, r.ci_upper):
            bounds.append(x(scaled(bound)) if bound is not None and (not log_scale or bound > 0) else None)
        rows.append(Row(r, x(scaled(r.value)), bounds[0], bounds[1]))
    return Panel(
        statistic=statistic,
        log_scale=log_scale,
        null_value="1" if log_scale else "0",
        null_x=x(null),
        ticks=tuple(Tick(x(t), _tick_label(t, log_scale)) for t in _ticks(low, high, log_scale)),
        rows=tuple(rows),
    )


def _ticks(low: float, high: float, log_scale: bool) -> list[float]:
    """Round values to mark on the axis: about five, always including the line of no effect."""
    if log_scale:
        candidates = [math.log10(v) for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)]
        return [t for t in candidates if low <= t <= high]
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _tick_label(value: float, log_scale: bool) -> str:
    number = 10**value if log_scale else value
    return plain_number(Decimal(str(round(number, 6))))
