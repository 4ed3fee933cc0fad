"""Turn scored rows into the words a principal or a partner reads.

Runs only for the k results returned (or only those shown: rank_offerings' `explained`). The
facts of those rows are read out of the numpy columns once, in bulk (`RowFacts`: one gather
and one `tolist` per column, and the category earning each need's credit for all rows at once,
`best_categories`), and the words are then written in plain Python from lists: indexing numpy
scalars row by row cost more than writing the words. What repeats from result to result is
written once: per school (`SchoolFacts`: the needs met and the words made of them, the equity
lead), per ranking (`Context.memo`: the reasons' leads) and per process (grade spans, fee
labels: a bounded, small set).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from matching.columns import OfferingColumns
from matching.config import RankingConfig
from matching.results import Contribution, NeedMet, direct_init
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
    def memo(self) -> dict[tuple[Any, ...], Any]:
        """The reasons' leads (`_lead`), which repeat from result to result of one ranking, by
        what they are made of."""
        return {}


@direct_init
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


@functools.cache  # grades are int8: a few hundred spans at most, read on every result
def grade_span(low: int, high: int) -> str:
    if low == high:
        return f"grade {grade_label(low)}"
    return f"grades {grade_label(low)}\u2013{grade_label(high)}"


COST_LABELS = {COST_FREE: "free", COST_SLIDING: "sliding scale"}


def cost_label(code: int, amount: float) -> str:
    if code != COST_FEE:
        return COST_LABELS.get(code, "cost unknown")
    if amount > 0 and math.isfinite(amount):  # 0.0 and -0.0 are equal keys but print apart
        return _fee_label(amount)
    return f"fee ${amount:,.0f}" if math.isfinite(amount) else "fee"


@functools.lru_cache(maxsize=4096)  # fee amounts repeat across results and rankings
def _fee_label(amount: float) -> str:
    return f"fee ${amount:,.0f}"


def need_level(need_index: float) -> str:
    if need_index >= 2 / 3:
        return "high need"
    if need_index >= 1 / 3:
        return "moderate need"
    return "lower need"


class RowFacts:
    """What explanations read of some rows (a ranking's k results), as Python values: one
    numpy gather and `tolist` per column instead of a numpy scalar per fact per row. Item i
    describes rows[i]. Without `scored`, only the offering and reach facts are read (enough
    for `offering_reason`). `reach_at`: where the rows' reach and distance are, when those were
    computed for other positions than `off`'s (None: at `rows` too). With `scored`, also
    `credit_table` and `need_rows`: the credit table rows of the rows' need slots, (J,) for
    every row or (len(rows), J) (they give `via`: `best_categories`)."""

    __slots__ = (
        "capacity_short",
        "constraints",
        "cost",
        "cost_words",
        "credit",
        "delivery_issue",
        "demoted",
        "distance",
        "equity",
        "equity_value",
        "estimated",
        "fit",
        "full",
        "grade_high",
        "grade_low",
        "grade_share",
        "history",
        "in_area",
        "inactive",
        "km",
        "language_access",
        "language_miss",
        "language_unknown",
        "languages",
        "like",
        "outside",
        "population_match",
        "populations",
        "primary",
        "priority",
        "reach",
        "reach_value",
        "schedule_issue",
        "served",
        "text",
        "verified",
        "via",
        "virtual",
    )  # fmt: skip

    def __init__(
        self,
        off: OfferingColumns,
        reach: Reach,
        distance_km: np.ndarray,
        rows: Sequence[int] | np.ndarray,
        scored: Scored | None = None,
        reach_at: np.ndarray | None = None,
        *,
        credit_table: np.ndarray | None = None,
        need_rows: np.ndarray | Sequence[int] | None = None,
    ) -> None:
        at = np.asarray(rows, dtype=np.intp)
        place = at if reach_at is None else reach_at
        self.distance = distance_km[place].tolist()
        self.km = [f"{d:.1f}" for d in self.distance]  # in the reach detail and the reason
        self.virtual = reach.virtual[place].tolist()
        self.in_area = reach.in_area[place].tolist()
        self.outside = reach.outside_area[place].tolist()
        self.reach_value = reach.value[place].tolist()
        # Each field through off's own view of it (kept by off, and made by the scoring
        # already): half the cost of gathering the rows' records and viewing their fields.
        self.estimated = off.location_estimated[at].tolist()
        self.cost = off.cost[at].tolist()
        # The cost in words, which the constraints, equity and reason each say.
        self.cost_words = list(map(cost_label, self.cost, off.cost_amount[at].tolist()))
        self.grade_low = off.grade_low[at].tolist()
        self.grade_high = off.grade_high[at].tolist()
        self.verified = off.verified[at].tolist()
        self.populations = off.populations[at].tolist()
        # Rows of 2-D columns by take (a third of the cost of fancy indexing them).
        self.languages = off.languages.take(at, axis=0).tolist()
        if scored is None:
            return
        if credit_table is None or need_rows is None:
            raise TypeError("RowFacts of scored rows needs credit_table and need_rows")
        credit = scored.credit.take(at, axis=0)
        categories = off.categories.take(at, axis=0)
        via = best_categories(categories, credit_table, np.asarray(need_rows, np.intp))
        # -1 where the row earns no credit (the category there says nothing): rows meeting the
        # same needs the same way then share their needs met (`_needs_met`), whatever else
        # they are in.
        self.via = np.where(credit > 0, via, -1).tolist()
        primary = scored.primary[at]
        self.primary = primary.tolist()
        self.fit = scored.fit[at].tolist()
        self.reach = scored.reach[at].tolist()
        self.constraints = scored.constraints[at].tolist()
        self.equity = scored.equity[at].tolist()
        self.credit = credit.tolist()
        # Per-need facts at each row's primary need j*: entry at * J + j* of each (R, J) array
        # (a take on the flat array costs half of indexing it with two arrays; take without an
        # axis reads the array flat, in C order, with no reshape).
        flat = at * scored.credit.shape[1] + primary
        self.text = scored.text.take(flat).tolist()
        self.grade_share = scored.grade_share.take(flat).tolist()
        self.schedule_issue = scored.schedule_issue.take(flat).tolist()
        self.delivery_issue = scored.delivery_issue.take(flat).tolist()
        self.language_miss = scored.language_miss.take(flat).tolist()
        self.language_unknown = scored.language_unknown.take(flat).tolist()
        self.capacity_short = scored.capacity_short.take(flat).tolist()
        self.full = scored.full[at].tolist()
        self.inactive = scored.inactive[at].tolist()
        self.demoted = scored.demoted[at].tolist()
        self.equity_value = scored.equity_value[at].tolist()
        self.population_match = scored.population_match[at].tolist()
        self.language_access = scored.language_access[at].tolist()
        self.history = _listed(scored.history, at)
        self.served = _listed(scored.served, at)
        self.like = _listed(scored.like, at)
        self.priority = _listed(scored.priority, at)


def _listed(values: np.ndarray | None, at: np.ndarray) -> list[Any] | None:
    return None if values is None else values[at].tolist()


def best_categories(
    categories: np.ndarray, credit_table: np.ndarray, need_rows: np.ndarray
) -> np.ndarray:
    """(len(categories), J): for each row and each need slot it earns credit for, the row's
    first category earning the most credit for that need, i.e. `max(cats, key=credit_table[
    need_row].__getitem__)` over its categories, for all rows at once. (Where it earns none,
    a category of the row or -1: which one says nothing.)

    categories: (n, width) tree ids, -1 padding; need_rows: (J,) credit table rows shared by
    every row, or (n, J) per row.
    """
    n, width = categories.shape
    if width == 0:
        return np.full((n, need_rows.shape[-1]), -1, dtype=categories.dtype)
    # (n, J, width); padding -1 reads the table's last column, credit 0 (CategoryTree.credit),
    # so it is never the first of the best where the row earns credit.
    credit = credit_table[need_rows[..., None], categories[:, None, :]]
    best = credit.argmax(axis=2)  # the first of the best, as max() picks
    return categories[np.arange(n)[:, None], best]


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
    """Contributions, needs met and warnings of row r; slots are its needs (None = unassessed)
    and slot_rows their rows of ctx.credit_table."""
    facts = RowFacts(
        off, reach, distance_km, [r], scored, credit_table=ctx.credit_table, need_rows=slot_rows
    )
    school = SchoolFacts(slots, school_grades, school_languages, school_populations, need_index)
    return explain_row(ctx, facts, 0, school)


class SchoolFacts:
    """The school side of the explanations of its results, and the words made of it alone,
    written once for them all rather than once per result: its needs (`slots`, by priority;
    None = unassessed), grades, languages and populations and its need index.

    One per ranking of offerings; one per school of rank_schools. The needs met it keeps
    (`_needs_met`) are the school's own: a ranking's results meeting the same needs the same
    way share them.
    """

    __slots__ = (
        "equity_head",
        "grades",
        "languages",
        "need_index",
        "needs_met",
        "populations",
        "prioritizes",
        "slots",
        "wanted",
    )  # fmt: skip

    def __init__(
        self,
        slots: Sequence[Need | None],
        grades: tuple[int, int],
        languages: Iterable[str],
        populations: Iterable[str],
        need_index: float,
    ) -> None:
        self.slots = slots
        self.grades = grades
        self.languages = languages
        self.populations = populations
        self.need_index = need_index
        # Written when first needed, by what they depend on besides the school:
        self.wanted: dict[int, list[str]] = {}  # by primary slot: `_wanted`
        self.needs_met: dict[tuple[Any, ...], _NeedsMet] = {}  # `_needs_met`
        self.prioritizes: dict[int, str] = {}  # by population mask: `_equity_detail`
        self.equity_head: str | None = None  # `_equity_detail`


def explain_row(
    ctx: Context, f: RowFacts, i: int, school: SchoolFacts, partner_here: bool = False
) -> Explained:
    """`explain` of item i of these facts, a result for this school; partner_here: its
    organization served this school on record (kept only where it served a school on record:
    Explained.partner_here)."""
    j = f.primary[i]
    primary = school.slots[j]
    met = _needs_met(ctx, f, i, j, school)
    wanted = school.wanted.get(j)
    if wanted is None:
        wanted = school.wanted[j] = _wanted(primary, school.languages)
    language = _offered_language(ctx.languages, f.languages[i], wanted) if wanted else None
    warnings = _warnings(ctx, f, i, primary, school.grades)
    contributions: tuple[Contribution, ...] = (
        Contribution("fit", f.fit[i], _fit_detail(f, i, j, met, primary)),
        Contribution("reach", f.reach[i], _reach_detail(ctx, f, i)),
        Contribution("constraints", f.constraints[i], _constraints_detail(ctx, f, i, warnings)),
        Contribution("equity", f.equity[i], _equity_detail(ctx, f, i, school, language)),
    )
    contributions += _history(f, i)
    if f.priority is not None and f.priority[i]:
        detail = "placed first: the best offering for your top-priority need"
        contributions += (Contribution("priority", f.priority[i], detail),)
    served = 0 if f.served is None else int(f.served[i])
    return Explained(
        contributions,
        met.needs,
        tuple(warnings),
        language,
        met.via_name,
        ctx.school_estimated or f.estimated[i],
        served,
        partner_here and served > 0,
    )


def _wanted(primary: Need | None, school_languages: Iterable[str]) -> list[str]:
    """The languages other than English a result is asked to offer: the primary need's (in
    code order), then the school's families'."""
    codes = [] if primary is None else sorted(primary.languages)
    return [code for code in [*codes, *school_languages] if code != "en"]


def offering_reason(
    ctx: Context,
    off: OfferingColumns,
    reach: Reach,
    distance_km: np.ndarray,
    r: int,
    explained: Explained,
    top_priority: int,
) -> str:
    """`offering_reason_of` row r."""
    facts = RowFacts(off, reach, distance_km, [r])
    return offering_reason_of(ctx, facts, 0, explained, top_priority)


def offering_reason_of(
    ctx: Context, f: RowFacts, i: int, explained: Explained, top_priority: int
) -> str:
    """E.g. "Meets your top need: Counseling (Spanish), 3.2 km, free, serves grades 6-8".

    Each part is a fact about this offering that can differ from the next result's: the need
    it meets (or only relates to, or offers with a problem the warnings name), other needs it
    fully meets, where it is (said to be approximate when either location is an estimate),
    the cost when stated (an unstated cost is left out, not repeated on every row), the grades
    it serves and its track record. tests/api/test_matches_explanations.py checks every part
    against the records on the real Oakland data.
    """
    parts = [_lead(ctx, explained, top_priority), _where(f, i, explained.estimated)]
    if f.cost[i] in _STATED_COSTS:
        parts.append(f.cost_words[i])
    parts.append("serves " + grade_span(f.grade_low[i], f.grade_high[i]))
    if explained.served or explained.partner_here:
        parts.extend(_track_record(explained))
    return _with_warnings(", ".join(parts), explained.warnings)


_STATED_COSTS = frozenset((COST_FREE, COST_SLIDING, COST_FEE))


def school_reason(f: RowFacts, i: int, explained: Explained, need_index: float | None) -> str:
    """E.g. "Needs Counseling (priority 1), 4.1 km, high need (0.82)"."""
    met = explained.needs_met
    if not met:
        lead = "No needs assessment on file"
    else:
        need = met[0]
        related = "" if need.credit >= 1 else "related to "
        lead = f"Needs {related}{need.name} (priority {need.priority})"
    parts = [lead, _where(f, i, explained.estimated)]
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


def _lead(ctx: Context, explained: Explained, top_priority: int) -> str:
    """ "Meets" only a need it is in the category of with no warning against it; "Offers" one
    with a warning (named after the dash); "Related to" a need it earns partial credit for.
    "and N more needs" counts only other needs it is in the category of.

    Written once per ranking for each set of needs met (kept with it, so that its id stays its
    own), language spoken and warning or not."""
    met = explained.needs_met
    key = (id(met), explained.via_name, explained.language, not explained.warnings, top_priority)
    known = ctx.memo.get(key)
    if known is not None and known[0] is met:
        lead: str = known[1]
        return lead
    lead = _lead_of(explained, top_priority)
    ctx.memo[key] = (met, lead)
    return lead


def _lead_of(explained: Explained, top_priority: int) -> str:
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


def _where(f: RowFacts, i: int, estimated: bool) -> str:
    if f.virtual[i]:
        return "virtual"
    if not estimated:
        return f"serves your area ({f.km[i]} km)" if f.in_area[i] else f"{f.km[i]} km"
    note = " from an approximate location"
    if f.in_area[i]:
        return f"serves your area (about {f.km[i]} km{note})"
    return f"about {f.km[i]} km{note}"


def _need_grades(need: Need, school: tuple[int, int]) -> tuple[int, int]:
    low = school[0] if need.grade_low is None else need.grade_low
    high = school[1] if need.grade_high is None else need.grade_high
    return low, high


class _NeedsMet(NamedTuple):
    """What explanations write of one set of needs met, made once per school (SchoolFacts)."""

    needs: tuple[NeedMet, ...]  # primary first, then by priority
    via_name: str  # display name of the category earning the first its credit ("": none)
    fit_words: tuple[str, str]  # the fit detail before and after the description similarity


def _needs_met(ctx: Context, f: RowFacts, i: int, primary: int, school: SchoolFacts) -> _NeedsMet:
    """The needs of the school row i meets, from its credits and the categories earning them
    (`via`); made once for each distinct set of credits, categories and primary need."""
    credits = f.credit[i]  # one per slot, then padding (reverse ranking)
    vias = f.via[i]
    key = (primary, *credits, *vias)
    known = school.needs_met.get(key)
    if known is not None:
        return known
    met = []
    for j, (need, credit, via) in enumerate(zip(school.slots, credits, vias, strict=False)):
        if need is None or credit <= 0:
            continue
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
    if len(met) > 1:
        met.sort(key=lambda n: (not n.primary, n.priority))
    needs = tuple(met)
    via_name = ctx.tree.name(needs[0].via) if needs else ""
    made = school.needs_met[key] = _NeedsMet(needs, via_name, _fit_words(needs))
    return made


def _offered_language(
    languages: LanguageCodes, offered: Sequence[int], wanted: Iterable[str]
) -> str | None:
    for code in wanted:  # English is left out of `wanted`
        if languages.offered(offered, code):
            return code
    return None


def _warnings(
    ctx: Context, f: RowFacts, i: int, need: Need | None, school_grades: tuple[int, int]
) -> list[str]:
    out = []
    if f.inactive[i]:
        out.append(f"not active on {ctx.as_of.isoformat()}")
    if f.full[i]:
        out.append("at capacity")
    if f.grade_share[i] <= 0:
        offered = grade_span(f.grade_low[i], f.grade_high[i])
        low, high = school_grades if need is None else _need_grades(need, school_grades)
        out.append(f"serves {offered}, not {grade_span(low, high)}")
    if f.language_miss[i] and need is not None:
        names = " or ".join(language_name(code) for code in sorted(need.languages))
        out.append(f"not offered in {names}")
    if f.language_unknown[i] and need is not None:
        names = " or ".join(language_name(code) for code in sorted(need.languages))
        out.append(f"does not say whether it is offered in {names}")
    if f.schedule_issue[i] == 2:
        out.append("schedule differs from the one preferred")
    if f.delivery_issue[i] == 2:
        out.append("delivery differs from the one preferred")
    if f.capacity_short[i] > 0:
        out.append("fewer seats left than students affected")
    return out


def _fit_detail(f: RowFacts, i: int, j: int, met: _NeedsMet, primary: Need | None) -> str:
    if primary is None:
        return f"no needs assessment on file: assumed credit {f.credit[i][j]:.2f}"
    if not met.needs:
        raise IndexError("a row with a primary need meets it")  # as needs_met[0] did
    before, after = met.fit_words
    return f"{before}; description similarity {f.text[i]:.2f}{after}"


def _fit_words(needs_met: Sequence[NeedMet]) -> tuple[str, str]:
    """What the fit detail says before and after the row's description similarity ("" and ""
    for no needs met)."""
    if not needs_met:
        return "", ""
    need = needs_met[0]
    if need.credit >= 1:
        text = f"meets {need.name} (priority {need.priority})"
    else:
        text = (
            f"related to {need.name} (priority {need.priority}) via {need.via}, "
            f"{need.credit:.0%} credit"
        )
    more = f"; also serves {len(needs_met) - 1} more of your needs" if len(needs_met) > 1 else ""
    return text, more


def _reach_detail(ctx: Context, f: RowFacts, i: int) -> str:
    km = f.km[i]
    if f.virtual[i]:
        return f"virtual: distance not counted ({km} km away)"
    if f.in_area[i]:
        return f"its service area covers the school ({km} km)"
    about = "about " if ctx.school_estimated or f.estimated[i] else ""
    text = f"{about}{km} km away, reach {f.reach_value[i]:.2f}"
    if f.outside[i]:
        text += " (outside its declared service area)"
    if about:
        text += "; from an approximate location"
    return text


def _constraints_detail(ctx: Context, f: RowFacts, i: int, warnings: Sequence[str]) -> str:
    notes = list(warnings)
    share = f.grade_share[i]
    if 0 < share < 1:
        notes.append(f"serves {share:.0%} of the grades")
    if f.schedule_issue[i] == 1:
        notes.append("schedule not stated")
    if f.delivery_issue[i] == 1:
        notes.append("delivery not stated")
    if f.cost[i] != COST_FREE:
        notes.append(f.cost_words[i])
    if not f.verified[i]:
        notes.append("organization not verified")
    if f.demoted[i]:
        penalty = ctx.config.demotion
        notes.append(f"ranked below all offerings without such a problem (-{penalty:g})")
    return "; ".join(notes) if notes else "no constraint issues"


def _history(f: RowFacts, i: int) -> tuple[Contribution, ...]:
    """The track-record contribution of a forward ranking: none where history is not scored."""
    if f.history is None or f.served is None or f.like is None:
        return ()
    served = int(f.served[i])
    if not served:
        detail = "no partnership history yet: counted as a partner of one school"
    else:
        detail = f"past partner of {served} school{'s' if served != 1 else ''} on record"
        if f.like[i] >= 0.5:
            detail += "; a usual partner of nearby schools with similar needs"
    return (Contribution("history", f.history[i], detail),)


def _equity_detail(
    ctx: Context, f: RowFacts, i: int, school: SchoolFacts, language: str | None
) -> str:
    if ctx.strength == 0:
        return "equity weighting off"
    head = school.equity_head
    if head is None:
        head = school.equity_head = (
            f"strength {ctx.strength:g} x need index {school.need_index:.2f}"
        )
    if ctx.reverse:
        return head + " (higher-need schools first)"
    reasons = f.cost_words[i]
    if f.population_match[i]:
        mask = f.populations[i]
        text = school.prioritizes.get(mask)
        if text is None:
            served = set(school.populations)
            shared = [p for b, p in enumerate(POPULATIONS) if mask & (1 << b) and p in served]
            text = ", prioritizes " + ", ".join(POPULATION_NAMES[p] for p in shared)
            school.prioritizes[mask] = text
        reasons += text
    if f.language_access[i] and language:
        reasons += f", offered in {language_name(language)}"
    return f"{head} x equity value {f.equity_value[i]:.2f} ({reasons})"
