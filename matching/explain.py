"""Turn one scored row into the words a principal or a partner reads.

Runs only for the k results returned, so plain Python is fine here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np

from matching.columns import OfferingColumns
from matching.config import RankingConfig
from matching.results import Contribution, NeedMet
from matching.scoring import Reach, Scored
from matching.tables import Need
from matching.taxonomy import CategoryTree
from matching.vocab import (
    COST_FEE,
    COST_FREE,
    COST_SLIDING,
    POPULATION_NAMES,
    POPULATIONS,
    LanguageCodes,
    language_name,
)


@dataclass(frozen=True)
class Context:
    """What explanations of one ranking share."""

    tree: CategoryTree
    languages: LanguageCodes
    credit_table: np.ndarray
    config: RankingConfig
    strength: float
    as_of: dt.date
    reverse: bool  # ranking schools for an offering (equity = the school's need alone)
    school_estimated: bool = False  # the school's location is an estimate

    @cached_property
    def credit_rows(self) -> list[list[float]]:
        """credit_table as Python lists: explanations read a few entries per result."""
        return cast(list[list[float]], self.credit_table.tolist())


@dataclass(frozen=True)
class Explained:
    contributions: tuple[Contribution, ...]
    needs_met: tuple[NeedMet, ...]
    warnings: tuple[str, ...]
    language: str | None  # a non-English language it offers that the need or families want
    via_name: str = ""  # display name of the offering's category earning the primary credit
    estimated: bool = False  # a distance from or to an estimated location
    served: int = 0  # schools its organization served on record (forward ranking with history)
    partner_here: bool = False  # its organization served this very school on record


GRADE_LABELS = {-1: "PK", 0: "K"}


def grade_label(grade: int) -> str:
    return GRADE_LABELS.get(grade, str(grade))


def grade_span(low: int, high: int) -> str:
    if low == high:
        return f"grade {grade_label(low)}"
    return f"grades {grade_label(low)}\u2013{grade_label(high)}"


def cost_label(code: int, amount: float) -> str:
    if code == COST_FREE:
        return "free"
    if code == COST_SLIDING:
        return "sliding scale"
    if code == COST_FEE:
        return f"fee ${amount:,.0f}" if math.isfinite(amount) else "fee"
    return "cost unknown"


def need_level(need_index: float) -> str:
    if need_index >= 2 / 3:
        return "high need"
    if need_index >= 1 / 3:
        return "moderate need"
    return "lower need"


def explain(
    ctx: Context,
    off: OfferingColumns,
    scored: Scored,
    reach: Reach,
    distance_km: np.ndarray,
    r: int,
    slots: Sequence[Need | None],
    slot_rows: Sequence[int],
    school_grades: tuple[int, int],
    school_languages: Iterable[str],
    school_populations: Iterable[str],
    need_index: float,
) -> Explained:
    """Contributions, needs met and warnings of row r; slots are its needs (None = unassessed)."""
    j = int(scored.primary[r])
    primary = slots[j]
    needs_met = _needs_met(ctx, off, scored, r, j, slots, slot_rows)
    low, high = school_grades if primary is None else _need_grades(primary, school_grades)
    wanted = [] if primary is None else sorted(primary.languages)
    language = _offered_language(ctx.languages, off.languages[r], [*wanted, *school_languages])
    warnings = _warnings(ctx, off, scored, r, j, primary, (low, high))
    contributions = (
        Contribution("fit", float(scored.fit[r]), _fit_detail(scored, r, j, needs_met, primary)),
        Contribution(
            "reach", float(scored.reach[r]), _reach_detail(ctx, off, reach, distance_km, r)
        ),
        Contribution(
            "constraints",
            float(scored.constraints[r]),
            _constraints_detail(ctx, off, scored, r, j, warnings),
        ),
        Contribution(
            "equity",
            float(scored.equity[r]),
            _equity_detail(ctx, off, scored, r, need_index, school_populations, language),
        ),
        *_history(scored, r),
        *_priority(scored, r),
    )
    via_name = ctx.tree.name(needs_met[0].via) if needs_met else ""
    estimated = ctx.school_estimated or bool(off.location_estimated[r])
    served = 0 if scored.served is None else int(scored.served[r])
    return Explained(
        contributions, needs_met, tuple(warnings), language, via_name, estimated, served
    )


def offering_reason(
    ctx: Context,
    off: OfferingColumns,
    reach: Reach,
    distance_km: np.ndarray,
    r: int,
    explained: Explained,
    top_priority: int,
) -> str:
    """E.g. "Meets your top need: Counseling (Spanish), 3.2 km, free, serves grades 6-8".

    Each part is a fact about this offering that can differ from the next result's: the need
    it meets (or only relates to, or offers with a problem the warnings name), other needs it
    fully meets, where it is (said to be approximate when either location is an estimate),
    the cost when stated (an unstated cost is left out, not repeated on every row), the grades
    it serves and its track record. tests/api/test_matches_explanations.py checks every part
    against the records on the real Oakland data.
    """
    estimated = ctx.school_estimated or bool(off.location_estimated[r])
    parts = [_lead(explained, top_priority)]
    parts.append(_where(reach, distance_km, r, estimated))
    if int(off.cost[r]) in (COST_FREE, COST_SLIDING, COST_FEE):
        parts.append(cost_label(int(off.cost[r]), float(off.cost_amount[r])))
    parts.append("serves " + grade_span(int(off.grade_low[r]), int(off.grade_high[r])))
    parts.extend(_track_record(explained))
    return _with_warnings(", ".join(parts), explained.warnings)


def school_reason(
    reach: Reach, distance_km: np.ndarray, r: int, explained: Explained, need_index: float | None
) -> str:
    """E.g. "Needs Counseling (priority 1), 4.1 km, high need (0.82)"."""
    met = explained.needs_met
    if not met:
        lead = "No needs assessment on file"
    else:
        need = met[0]
        related = "" if need.credit >= 1 else "related to "
        lead = f"Needs {related}{need.name} (priority {need.priority})"
    parts = [lead, _where(reach, distance_km, r, explained.estimated)]
    parts.append(
        "need unknown" if need_index is None else f"{need_level(need_index)} ({need_index:.2f})"
    )
    return _with_warnings(", ".join(parts), explained.warnings)


def _track_record(explained: Explained) -> list[str]:
    """E.g. "past partner of this school and 3 other schools" (none without a record)."""
    track = ["this school"] if explained.partner_here else []
    others = explained.served - explained.partner_here
    if others:
        other = "other " if explained.partner_here else ""
        track.append(f"{others} {other}school{'s' if others > 1 else ''}")
    return ["past partner of " + " and ".join(track)] if track else []


def _with_warnings(text: str, warnings: Sequence[str]) -> str:
    return f"{text} \u2014 {'; '.join(warnings)}" if warnings else text


def _lead(explained: Explained, top_priority: int) -> str:
    """ "Meets" only a need it is in the category of with no warning against it; "Offers" one
    with a warning (named after the dash); "Related to" a need it earns partial credit for.
    "and N more needs" counts only other needs it is in the category of."""
    need, *others = explained.needs_met
    which = (
        "your top need" if need.priority <= top_priority else f"your priority-{need.priority} need"
    )
    spoken = f" ({language_name(explained.language)})" if explained.language else ""
    more = sum(1 for other in others if other.credit >= 1)
    also = f" and {more} more need{'s' if more > 1 else ''}" if more else ""
    if need.credit < 1:
        return f"Related to {which}: {need.name} (via {explained.via_name}){spoken}{also}"
    verb = "Offers" if explained.warnings else "Meets"
    return f"{verb} {which}: {need.name}{spoken}{also}"


def _where(reach: Reach, distance_km: np.ndarray, r: int, estimated: bool) -> str:
    if reach.virtual[r]:
        return "virtual"
    about = "about " if estimated else ""
    note = " from an approximate location" if estimated else ""
    if reach.in_area[r]:
        return f"serves your area ({about}{distance_km[r]:.1f} km{note})"
    return f"{about}{distance_km[r]:.1f} km{note}"


def _need_grades(need: Need, school: tuple[int, int]) -> tuple[int, int]:
    low = school[0] if need.grade_low is None else need.grade_low
    high = school[1] if need.grade_high is None else need.grade_high
    return low, high


def _needs_met(
    ctx: Context,
    off: OfferingColumns,
    scored: Scored,
    r: int,
    primary: int,
    slots: Sequence[Need | None],
    slot_rows: Sequence[int],
) -> tuple[NeedMet, ...]:
    cats = [c for c in off.categories[r].tolist() if c >= 0]
    met = []
    credits = scored.credit[r].tolist()  # one per slot, then padding (reverse ranking)
    for j, (need, credit) in enumerate(zip(slots, credits, strict=False)):
        if need is None or credit <= 0:
            continue
        via = max(cats, key=ctx.credit_rows[slot_rows[j]].__getitem__)  # first of the best
        met.append(
            NeedMet(
                category=need.category,
                name=ctx.tree.name(need.category),
                priority=need.priority,
                credit=credit,
                via=ctx.tree.codes[via],
                primary=j == primary,
            )
        )
    met.sort(key=lambda n: (not n.primary, n.priority))
    return tuple(met)


def _offered_language(
    languages: LanguageCodes, offered: np.ndarray, wanted: Iterable[str]
) -> str | None:
    for code in wanted:
        if code != "en" and languages.offered(offered, code):
            return code
    return None


def _warnings(
    ctx: Context,
    off: OfferingColumns,
    scored: Scored,
    r: int,
    j: int,
    need: Need | None,
    grades: tuple[int, int],
) -> list[str]:
    out = []
    if scored.inactive[r]:
        out.append(f"not active on {ctx.as_of.isoformat()}")
    if scored.full[r]:
        out.append("at capacity")
    if scored.grade_share[r, j] <= 0:
        offered = grade_span(int(off.grade_low[r]), int(off.grade_high[r]))
        out.append(f"serves {offered}, not {grade_span(*grades)}")
    if scored.language_miss[r, j] and need is not None:
        names = " or ".join(language_name(code) for code in sorted(need.languages))
        out.append(f"not offered in {names}")
    if scored.language_unknown[r, j] and need is not None:
        names = " or ".join(language_name(code) for code in sorted(need.languages))
        out.append(f"does not say whether it is offered in {names}")
    if scored.schedule_issue[r, j] == 2:
        out.append("schedule differs from the one preferred")
    if scored.delivery_issue[r, j] == 2:
        out.append("delivery differs from the one preferred")
    if scored.capacity_short[r, j] > 0:
        out.append("fewer seats left than students affected")
    return out


def _fit_detail(
    scored: Scored, r: int, j: int, needs_met: Sequence[NeedMet], primary: Need | None
) -> str:
    if primary is None:
        return f"no needs assessment on file: assumed credit {float(scored.credit[r, j]):.2f}"
    need = needs_met[0]
    if need.credit >= 1:
        text = f"meets {need.name} (priority {need.priority})"
    else:
        text = (
            f"related to {need.name} (priority {need.priority}) via {need.via}, "
            f"{need.credit:.0%} credit"
        )
    text += f"; description similarity {float(scored.text[r, j]):.2f}"
    if len(needs_met) > 1:
        text += f"; also serves {len(needs_met) - 1} more of your needs"
    return text


def _reach_detail(
    ctx: Context, off: OfferingColumns, reach: Reach, distance_km: np.ndarray, r: int
) -> str:
    d = float(distance_km[r])
    off_estimated = bool(off.location_estimated[r])
    if reach.virtual[r]:
        return f"virtual: distance not counted ({d:.1f} km away)"
    if reach.in_area[r]:
        return f"its service area covers the school ({d:.1f} km)"
    about = "about " if ctx.school_estimated or off_estimated else ""
    text = f"{about}{d:.1f} km away, reach {float(reach.value[r]):.2f}"
    if reach.outside_area[r]:
        text += " (outside its declared service area)"
    if about:
        text += "; from an approximate location"
    return text


def _constraints_detail(
    ctx: Context, off: OfferingColumns, scored: Scored, r: int, j: int, warnings: Sequence[str]
) -> str:
    notes = list(warnings)
    share = float(scored.grade_share[r, j])
    if 0 < share < 1:
        notes.append(f"serves {share:.0%} of the grades")
    if scored.schedule_issue[r, j] == 1:
        notes.append("schedule not stated")
    if scored.delivery_issue[r, j] == 1:
        notes.append("delivery not stated")
    cost = int(off.cost[r])
    if cost != COST_FREE:
        notes.append(cost_label(cost, float(off.cost_amount[r])))
    if not off.verified[r]:
        notes.append("organization not verified")
    if scored.demoted[r]:
        penalty = ctx.config.demotion
        notes.append(f"ranked below all offerings without such a problem (-{penalty:g})")
    return "; ".join(notes) if notes else "no constraint issues"


def _history(scored: Scored, r: int) -> tuple[Contribution, ...]:
    """The track-record contribution of a forward ranking (none where history is not scored)."""
    if scored.history is None or scored.served is None or scored.like is None:
        return ()
    served = int(scored.served[r])
    if not served:
        detail = "no partnership history yet: counted as a partner of one school"
        return (Contribution("history", float(scored.history[r]), detail),)
    detail = f"past partner of {served} school{'s' if served != 1 else ''} on record"
    if scored.like[r] >= 0.5:
        detail += "; a usual partner of nearby schools with similar needs"
    return (Contribution("history", float(scored.history[r]), detail),)


def _priority(scored: Scored, r: int) -> tuple[Contribution, ...]:
    """The lift of matching.priority, on the one row it moved to first place."""
    if scored.priority is None or not scored.priority[r]:
        return ()
    detail = "placed first: the best offering for your top-priority need"
    return (Contribution("priority", float(scored.priority[r]), detail),)


def _equity_detail(
    ctx: Context,
    off: OfferingColumns,
    scored: Scored,
    r: int,
    need_index: float,
    school_populations: Iterable[str],
    language: str | None,
) -> str:
    if ctx.strength == 0:
        return "equity weighting off"
    head = f"strength {ctx.strength:g} x need index {need_index:.2f}"
    if ctx.reverse:
        return head + " (higher-need schools first)"
    value = float(scored.equity_value[r])
    reasons = [cost_label(int(off.cost[r]), float(off.cost_amount[r]))]
    if scored.population_match[r]:
        mask = int(off.populations[r])
        served = set(school_populations)
        shared = [p for i, p in enumerate(POPULATIONS) if mask & (1 << i) and p in served]
        reasons.append("prioritizes " + ", ".join(POPULATION_NAMES[p] for p in shared))
    if scored.language_access[r] and language:
        reasons.append(f"offered in {language_name(language)}")
    return f"{head} x equity value {value:.2f} ({', '.join(reasons)})"
