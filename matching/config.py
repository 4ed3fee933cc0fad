"""The one configuration object of the ranking model: every weight and threshold, documented.

A score is the sum of four contributions, each shown to the user:

    fit         = fit_weight * need fit in [0, 1]
    reach       = reach_weight * reach in [0, 1]
    constraints = constraints_weight * (1 - soft penalties) - demotion (if any dominant problem)
    equity      = equity * need_index * equity value in [0, 1]

Change a default here, bump `version`: rankings are reproducible per version.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.vocab import LOCALES


@dataclass(frozen=True)
class RankingConfig:
    """Parameters of the ranking model (scikit-learn style: set at construction, never learned)."""

    version: str = "2026.1"

    # --- component weights -------------------------------------------------------------------
    # How much meeting the school's needs counts: the dominant signal.
    fit_weight: float = 0.5
    # How much being reachable counts (distance decay, virtual, service area).
    reach_weight: float = 0.25
    # How much satisfying the soft constraints counts (schedule, delivery, cost, capacity, trust).
    constraints_weight: float = 0.25
    # Default equity strength: weight of need_index * equity value. 0 = pure fit + reach +
    # constraints; 1 = as strong as fit at its maximum. Districts may pass their own per query.
    equity: float = 0.3
    # How much the district's partnership history counts (matching.history): schools served
    # (track) and partners chosen by schools like this one, nearby (like).
    track_weight: float = 0.35
    like_weight: float = 0.5
    like_scale_km: float = 5.0

    # --- fit -----------------------------------------------------------------------------------
    # Weight of a need by priority 1 (highest) .. 5: meeting priority 1 counts 1.0, priority 5 0.3.
    priority_weights: tuple[float, ...] = (1.0, 0.75, 0.55, 0.4, 0.3)
    # Credit for a sibling category in the same branch (need "a.b", offering "a.c").
    sibling_credit: float = 0.5
    # Credit between a branch and its child (need "a.b" met by generic "a", or need "a" by "a.b").
    branch_credit: float = 0.6
    # Share of a need's fit that text similarity (TF-IDF cosine of need notes and offering
    # description) decides; the rest is the taxonomy credit. Text refines a taxonomy match and
    # never creates one, so keyword-stuffed descriptions cannot reach unrelated needs.
    text_blend: float = 0.3
    # Share of fit rewarding an offering that meets several needs (priority-weighted mean over
    # all needs); the rest is how well it meets its primary need.
    breadth_share: float = 0.25
    # Reverse ranking only: taxonomy credit given to a school that has filed no needs, so it can
    # still be found by reach and equity, below schools whose filed needs match.
    unassessed_credit: float = 0.3

    # --- reach ---------------------------------------------------------------------------------
    # Distance decay scale per locale, km: reach = exp(-distance / scale). Rural schools reach
    # farther because everything is farther; city students rarely travel far for a program.
    scale_city_km: float = 5.0
    scale_suburb_km: float = 10.0
    scale_town_km: float = 20.0
    scale_rural_km: float = 40.0
    # Locale assumed when a school's locale is unknown.
    default_locale: str = "suburb"
    # An in-person offering farther than this many scales is out of reach and not ranked at all
    # (exp(-4) = 0.018): a tutoring program 200 km from a city school is no option.
    reach_cutoff_scales: float = 4.0
    # Offerings delivered at the school: the partner travels, and partners travel farther than
    # students do, so the scale is multiplied by this.
    at_school_travel_factor: float = 1.5
    # Reach of an offering delivered virtually: distance is ignored. K-12 programs usually work
    # better in person, so it equals an in-person partner about half a decay scale away
    # (exp(-0.5) = 0.61: 2.5 km for a city school, 20 km for a rural one).
    virtual_reach: float = 0.6
    # Reach when the offering's declared service area (polygon or radius) covers the school:
    # the partner says it serves the school's area, about as good as a partner 1.5 km away
    # from a city school. Nearer partners still count their own, higher, decay.
    covered_reach: float = 0.75
    # Reach multiplier when an offering declares a polygon service area that does not cover
    # the school (the service reports coverage); the partner said it does not serve there.
    outside_area_factor: float = 0.5

    # --- constraints (soft penalties, subtracted from a satisfaction of 1) ---------------------
    # Times the share of the need's grade span the offering does not serve (partial overlap).
    grade_partial_penalty: float = 0.3
    # Need prefers a schedule / delivery the offering does not offer.
    schedule_mismatch_penalty: float = 0.3
    delivery_mismatch_penalty: float = 0.3
    # Need states a preference but the offering's schedule / delivery is unspecified.
    schedule_unknown_penalty: float = 0.05
    delivery_unknown_penalty: float = 0.05
    # Cost, for every school (equity adds affordability on top for high-need schools).
    fee_penalty: float = 0.1
    sliding_scale_penalty: float = 0.03
    cost_unknown_penalty: float = 0.05
    # Need asks for languages but the offering lists none: unknown, not a mismatch (a mismatch,
    # listing languages without any asked for, demotes).
    language_unknown_penalty: float = 0.05
    # Times the share of the need's students_affected the offering cannot take (students left).
    capacity_short_penalty: float = 0.2
    # Offering not verified by the district.
    unverified_penalty: float = 0.05
    # Subtracted once for a dominant problem: grades do not overlap, none of the need's
    # languages offered, no capacity left, not active on the ranking date. It exceeds the
    # largest possible positive score, so such an offering ranks below every one without.
    demotion: float = 4.0

    # --- equity --------------------------------------------------------------------------------
    # Equity value of an offering for a school = weighted mix of (shares sum to 1):
    equity_cost_share: float = 0.5  # affordability (below)
    equity_population_share: float = 0.35  # prioritizes a population the school serves
    equity_language_share: float = 0.15  # offered in a non-English language of its families
    # Affordability by cost kind.
    affordability_free: float = 1.0
    affordability_sliding_scale: float = 0.6
    affordability_fee: float = 0.0
    affordability_unknown: float = 0.3
    # Forward rankings with partnership history: share of the equity value given to the
    # organization's record with high-need schools (mean need index of the schools it served;
    # a partner with no history gets the district's mean). Offerings that state no cost,
    # populations or languages all had the same equity value; this is where equity acts.
    equity_record_share: float = 0.25
    # Need index used for a school whose index is unknown (all indicators missing).
    missing_need_index: float = 0.5

    # --- index ---------------------------------------------------------------------------------
    # Upserted rows wait in an append buffer scanned by brute force; past this many, call
    # OfferingIndex.rebuild() (cheap to check via OfferingIndex.needs_rebuild).
    rebuild_buffer_rows: int = 20_000

    def __post_init__(self) -> None:
        weights = (
            self.fit_weight,
            self.reach_weight,
            self.constraints_weight,
            self.track_weight,
            self.like_weight,
        )
        if min(weights) < 0:
            raise ValueError("component weights must be >= 0")
        if not 0 <= self.equity <= 1:
            raise ValueError("equity must be in [0, 1]")
        if not self.priority_weights or any(not 0 < w <= 1 for w in self.priority_weights):
            raise ValueError("priority_weights must be in (0, 1]")
        shares = self.equity_cost_share + self.equity_population_share
        if abs(shares + self.equity_language_share - 1) > 1e-9:
            raise ValueError("equity shares must sum to 1")
        if not 0 <= self.equity_record_share <= 1:
            raise ValueError("equity_record_share must be in [0, 1]")
        if self.default_locale not in LOCALES:
            raise ValueError(f"default_locale must be one of {LOCALES}")
        if self.demotion <= self.max_positive_score + self.constraints_weight * self.max_soft:
            raise ValueError("demotion must exceed the largest possible score spread")

    @property
    def max_soft(self) -> float:
        """The largest total of soft penalties one offering can collect."""
        return (
            self.grade_partial_penalty
            + self.schedule_mismatch_penalty
            + self.delivery_mismatch_penalty
            + max(self.fee_penalty, self.sliding_scale_penalty, self.cost_unknown_penalty)
            + self.capacity_short_penalty
            + self.language_unknown_penalty
            + self.unverified_penalty
        )

    @property
    def max_positive_score(self) -> float:
        """The largest score possible at full equity strength (every component at 1)."""
        return (
            self.fit_weight
            + self.reach_weight
            + self.constraints_weight
            + self.track_weight
            + self.like_weight
            + 1.0
        )

    def scale_km(self, locale: str | None) -> float:
        """Distance decay scale for a school of this locale (unknown -> default_locale)."""
        scales = {
            "city": self.scale_city_km,
            "suburb": self.scale_suburb_km,
            "town": self.scale_town_km,
            "rural": self.scale_rural_km,
        }
        return scales.get(locale or self.default_locale, scales[self.default_locale])

    def priority_weight(self, priority: int) -> float:
        """Weight of a need of this priority (beyond the table: the lowest weight)."""
        index = min(max(priority, 1), len(self.priority_weights)) - 1
        return self.priority_weights[index]
