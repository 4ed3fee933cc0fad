"""Partnership history in the ranking: track record, schools like this one, learned weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from matching import RankingConfig, rank_offerings
from matching.history import History, learn_weights
from tests.matching.factories import AS_OF, SCHOOL_LON, build, need, north, offering, school

COUNSELING = "mental_health_sel.counseling"


def history(rows: list[tuple[int, int, float, str]]) -> History:
    """(organization id, school id, km north of the ranked school, category) per partnership."""
    return History(
        organization_ids=np.array([r[0] for r in rows], dtype=np.int64),
        school_ids=np.array([r[1] for r in rows], dtype=np.int64),
        lat=np.array([north(r[2]) for r in rows]),
        lon=np.full(len(rows), SCHOOL_LON),
        categories=tuple(frozenset({r[3]}) for r in rows),
    )


def test_the_partner_of_nearby_schools_with_the_same_need_outranks_an_equal_stranger():
    index = build(offering(1), offering(2))  # identical but for the id: 1 wins the tie today
    index.history = history([(102, s, 1.0, COUNSELING) for s in range(10, 14)])
    ranked = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert [r.offering_id for r in ranked] == [2, 1]
    points = {c.component: c for c in ranked[0].contributions}
    assert points["history"].points > 0
    assert points["history"].detail.startswith("past partner of 4 schools on record")
    assert sum(c.points for c in ranked[0].contributions) == ranked[0].score


def test_an_organization_with_no_history_is_ranked_on_the_rest_of_the_model():
    index = build(offering(1, km=1.0), offering(2, km=1.0, categories=("arts",)))
    index.history = history([(102, s, 1.0, "arts") for s in range(10, 14)])
    ranked = rank_offerings(index, school(), [need()], as_of=AS_OF)
    assert ranked[0].offering_id == 1  # the fitting newcomer is not shut out
    first = {c.component: c for c in ranked[0].contributions}
    # The cold-start floor: a partner of one school, scaled by fit.
    assert first["history"].points > 0
    assert first["history"].detail.startswith("no partnership history yet")


def test_track_record_orders_the_page_but_the_top_priority_keeps_first_place():
    index = build(offering(1, km=3.0), offering(2, km=0.5, categories=("arts",)))
    index.history = history([(102, s, 0.5, "arts") for s in range(10, 40)])
    ranked = rank_offerings(index, school(), [need(), need("arts", priority=2)], as_of=AS_OF)
    assert [r.offering_id for r in ranked] == [1, 2]
    first = {c.component: c.points for c in ranked[0].contributions}
    second = {c.component: c.points for c in ranked[1].contributions}
    assert first["priority"] > 0 and "priority" not in second  # lifted, and only it
    assert second["history"] > 0  # the arts partner keeps its track record below it
    assert sum(first.values()) == ranked[0].score


def test_priority_leads_without_history_when_a_branch_need_is_met_by_a_child():
    """Defect 6 of issue 12 (the README's ad-hoc example): a generic priority-1 need met by a
    child category earns less credit than an exact priority-2 match; priority must still lead."""
    index = build(offering(1, km=1.0), offering(2, km=1.0, categories=("literacy",)))
    needs = [need("mental_health_sel", priority=1), need("literacy", priority=2)]
    ranked = rank_offerings(index, school(), needs, as_of=AS_OF)
    assert [r.offering_id for r in ranked] == [1, 2]


def test_learned_weights_reward_what_predicts_the_district_s_own_partnerships():
    rng = np.random.default_rng(7)
    rows = []
    # 40 schools along a line, each wanting one category; each is served by the two nearest
    # organizations that provide it: nearby, similar schools choose the same partners.
    for s in range(40):
        first = 2 * (s // 8) + s % 2
        for org in (first, first + 2):
            rows.append((org, s, (s // 8) * 2.0, COUNSELING if org % 2 else "arts"))
    rng.shuffle(rows)
    learned = learn_weights(history(rows), RankingConfig())
    again = learn_weights(history(rows), RankingConfig())
    assert learned.weights is not None and learned.weights == again.weights
    track, like = learned.weights
    assert like > 0
    assert track + like <= RankingConfig().track_weight + RankingConfig().like_weight + 1e-12


def test_too_little_history_keeps_the_documented_default_weights():
    thin = learn_weights(history([(1, s, 0.0, COUNSELING) for s in range(3)]), RankingConfig())
    assert thin.weights is None


def test_equity_acts_through_a_record_with_high_need_schools_when_offerings_state_nothing():
    """Defect 5 of issue 12: with no cost, populations or languages stated, equity changed no
    forward ranking. A partner whose past schools were high-need now rises with equity."""
    plain = dict(cost=None, languages=frozenset(), populations=frozenset())
    index = build(offering(1, **plain), offering(2, **plain))
    rows = [(101, s, 1.0, COUNSELING) for s in range(10, 14)]
    rows += [(102, s, 1.0, COUNSELING) for s in range(20, 24)]
    index.history = replace(history(rows), need_index=np.array([0.1] * 4 + [0.9] * 4, dtype=float))
    high_need = school(need_index=0.9)
    at = {
        equity: [
            r.offering_id
            for r in rank_offerings(index, high_need, [need()], equity=equity, as_of=AS_OF)
        ]
        for equity in (0.0, 1.0)
    }
    assert at[0.0] == [1, 2]  # equal but for the id
    assert at[1.0] == [2, 1]  # the partner of high-need schools first


def test_the_reason_says_when_the_partner_already_served_this_school():
    index = build(offering(1), offering(2, km=2.5))
    index.history = history([(101, 1, 1.0, COUNSELING), (101, 10, 1.0, COUNSELING)])
    by_id = {r.offering_id: r for r in rank_offerings(index, school(), [need()], as_of=AS_OF)}
    assert by_id[1].reason.endswith(", past partner of this school and 1 other school")
    assert "past partner" not in by_id[2].reason


def _overlap_per_row(
    categories: tuple[frozenset[str], ...], needs: list, config: RankingConfig
) -> np.ndarray:
    """The overlap as the ranking computed it row by row before it was vectorised (issue 15):
    the reference the vectorised form must equal."""
    weights = {n.category: config.priority_weight(n.priority) for n in needs}
    total = sum(weights.values())
    branches: dict[str, float] = {}
    for code, w in weights.items():
        branch = code.split(".")[0]
        branches[branch] = max(branches.get(branch, 0.0), w)
    out = np.zeros(len(categories))
    for i, served in enumerate(categories):
        exact = sum(w for c, w in weights.items() if c in served)
        near = {c.split(".")[0] for c in served} - {c.split(".")[0] for c in served & set(weights)}
        out[i] = (exact + config.sibling_credit * sum(branches.get(b, 0.0) for b in near)) / total
    return np.minimum(out, 1.0)


def test_the_history_overlap_equals_the_row_by_row_formula_on_the_real_taxonomy():
    from app.taxonomy import load_taxonomy
    from matching.history import _rows

    codes = [c.code for c in load_taxonomy().categories]
    rng = np.random.default_rng(15)
    n = 400
    served = tuple(
        frozenset(rng.choice(codes, size=rng.integers(0, 4), replace=False).tolist())
        for _ in range(n)
    )
    past = History(
        organization_ids=rng.integers(1, 60, n).astype(np.int64),
        school_ids=rng.integers(1, 90, n).astype(np.int64),
        lat=np.full(n, north(1.0)),
        lon=np.full(n, SCHOOL_LON),
        categories=served,
    )
    config = RankingConfig()
    for _ in range(200):
        picked = rng.choice(codes, size=rng.integers(1, 6), replace=False).tolist()
        needs = [need(c, priority=int(rng.integers(1, 4))) for c in picked]
        expected = _overlap_per_row(served, needs, config)
        # Sums over several branches may add in another order (the reference iterates a set).
        np.testing.assert_allclose(_rows(past).overlap(needs, config), expected, rtol=1e-12)
        assert (expected > 0).any() or not any(served)
