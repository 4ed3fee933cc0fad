"""The in-memory ranking index an app holds (create_app puts one on app.state, one per worker
process), brought up to date from the catalog change log before every ranking, so a committed
write to an offering or an organization shows in the next ranking of every worker. With a
freshness bound (Settings.freshness_ms) the log is looked at again only when this worker last
looked longer ago or has committed a write of its own since: a write through this worker
shows in its next ranking, one through another worker within the bound."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from shapely import MultiPolygon
from sqlalchemy.orm import Session

import geo
from app.db import Database, Writes
from app.repositories import catalog
from app.repositories.offerings import OfferingBrief
from app.settings import get_settings
from app.taxonomy import load_taxonomy
from matching import OfferingIndex, RankingConfig
from matching.history import History, learn_weights

log = logging.getLogger("partnermap.ranking")

# Change-log ids are allotted when a writer flushes and may commit out of order; re-reading a
# window below the newest id seen catches a slow writer's change once it commits.
REREAD_WINDOW = 1000
# Derived answers (assessed schools and their coverage, per schools version) kept per catalog
# version.
DERIVED_KEYS = 8
# Briefs of shown offerings kept for the next answers that show them (emptied when full).
MAX_BRIEFS = 10_000


class CatalogIndex:
    """An OfferingIndex plus what it has applied from the change log."""

    def __init__(
        self,
        config: RankingConfig | None = None,
        fresh_s: float = 0.0,
        writes: Writes | None = None,
    ) -> None:
        self.config = config or get_settings().ranking
        self.fresh_s = fresh_s if writes is not None else 0.0
        self.writes = writes
        self._checked: tuple[int, float] = (-1, 0.0)  # write count and time of the last look
        self._index: OfferingIndex | None = None
        # Re-entrant: held_if_fresh() holds it around calls that take it again.
        self._lock = threading.RLock()
        self._newest = 0
        self._applied: deque[int] = deque(maxlen=4 * REREAD_WINDOW)
        self._by_org: dict[int, set[int]] = {}
        self._version = 0  # bumped whenever the index's offerings change
        self._history_version = 0  # bumped whenever the partnership history it holds changes
        self._derived: dict[Hashable, tuple[int, Any]] = {}
        # Beside the index, so a ranking reads nothing else of the catalog: what results show
        # (offering -> its fields, organization -> name and verification) and polygon service
        # areas by organization.
        self._shown: dict[int, tuple[Any, ...]] = {}
        self._organizations: dict[int, tuple[str, bool]] = {}
        # The briefs made from them, each with the two rows it was made from (a changed row is
        # a new tuple, so a brief is handed out again only while both are the ones it read).
        self._briefs: dict[int, tuple[tuple[Any, ...], tuple[str, bool], OfferingBrief]] = {}
        self._areas: dict[int, MultiPolygon] = {}
        self._area_orgs = np.zeros(0, dtype=np.int64)
        self._area_shapes: list[MultiPolygon] = []
        # Set once a start-up build (warm_up) has ended, built or not; unset while it runs.
        self.warmed = threading.Event()
        self.warmed.set()  # nothing under way until warming() is called

    def current(self, session: Session) -> OfferingIndex:
        """The index with every committed change applied (within the freshness bound). Only
        a look at the log changes the index, so whether it needs a rebuild (a count over all
        its rows) is asked after a look, not on every ranking within the bound."""
        with self._lock:
            if self._index is not None and self._fresh():
                return self._index
        # The session's connection before the index is held for a look at the log: threads
        # waiting for the index may hold the pool's connections (their requests have read
        # already), so the thread they wait for must never wait for one of theirs.
        session.connection()
        with self._lock:
            if self._index is not None and self._fresh():  # another looked meanwhile
                return self._index
            count, looked_at = (self.writes.count if self.writes else 0), time.monotonic()
            if self._index is None:
                self._build(session)
            else:
                self._catch_up(session)
            self._checked = (count, looked_at)
            assert self._index is not None
            if self._index.needs_rebuild:
                self._index.rebuild()
            return self._index

    @contextmanager
    def held_if_fresh(self) -> Iterator[bool]:
        """True, with the index held for this thread until the block ends, when it is current
        within the freshness bound and no other thread holds it (a thread catching up may be
        waiting on the database): then the event loop may rank without waiting on either."""
        if not self._lock.acquire(blocking=False):
            yield False
            return
        try:
            yield self._index is not None and self._fresh()
        finally:
            self._lock.release()

    def _fresh(self) -> bool:
        if self.fresh_s <= 0 or self.writes is None:
            return False
        count, looked_at = self._checked
        return count == self.writes.count and time.monotonic() - looked_at < self.fresh_s

    @property
    def version(self) -> tuple[int, int]:
        """Changes whenever what a ranking reads of the index does: its offerings (and what
        results show of them) or its partnership history."""
        with self._lock:
            return (self._version, self._history_version)

    def covering(self, lat: float, lon: float) -> frozenset[int]:
        """Offerings whose organization's polygon service area covers the point (boundary
        included), from the areas held beside the index (as current as the last `current`)."""
        with self._lock:
            orgs, shapes, by_org = self._area_orgs, self._area_shapes, self._by_org
            if not shapes:
                return frozenset()
            hit = orgs[geo.covers_many(shapes, lat, lon)]
            return frozenset(i for org in hit.tolist() for i in by_org.get(org, ()))

    def shown(self, offering_ids: Sequence[int]) -> dict[int, OfferingBrief]:
        """The offerings among these ids that the index holds, as results show them (the index
        is brought up to date by the ranking that chose them). The same brief object is given
        again while its offering and organization are unchanged (to be read, never changed)."""
        out = {}
        with self._lock:
            briefs = self._briefs
            for offering_id in offering_ids:
                row = self._shown.get(offering_id)
                org = None if row is None else self._organizations.get(row[2])
                if row is None or org is None:
                    continue
                held = briefs.get(offering_id)
                if held is not None and held[0] is row and held[1] is org:
                    out[offering_id] = held[2]
                    continue
                if len(briefs) >= MAX_BRIEFS:
                    briefs.clear()
                out[offering_id] = brief = OfferingBrief(
                    id=row[0],
                    title=row[1],
                    organization_id=row[2],
                    organization_name=org[0],
                    verified=org[1],
                    categories=list(row[3]),
                    cost=row[4],
                    delivery=list(row[5]),
                    capacity_schools=row[6],
                    capacity_students=row[7],
                )
                briefs[offering_id] = (row, org, brief)
        return out

    def derived(
        self, session: Session, key: Hashable, compute: Callable[[OfferingIndex], Any]
    ) -> Any:
        """compute(index) once per catalog version and key (the coverage of every assessed
        school): answered from memory until a committed catalog change reaches this index."""
        index = self.current(session)
        with self._lock:
            version = self._version
            hit = self._derived.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = compute(index)
        with self._lock:
            # Only the current version's answers are worth keeping; a few keys at most.
            kept = {k: v for k, v in self._derived.items() if v[0] == self._version}
            self._derived = dict(list(kept.items())[-(DERIVED_KEYS - 1) :])
            if version == self._version:
                self._derived[key] = (version, value)
        return value

    def warming(self) -> None:
        """A start-up build is about to run: the worker is not ready until it ends (/ready)."""
        self.warmed.clear()

    def warm_up(self, database: Database) -> None:
        """Build the index now (create_app runs this in a background thread at start-up)."""
        try:
            with database.session() as session:
                self.current(session)
        except Exception:  # a cold index is rebuilt on the first ranking anyway
            log.exception("could not build the ranking index at start-up")
        finally:
            self.warmed.set()

    @property
    def built(self) -> bool:
        """Whether an index is held (else the next ranking builds one)."""
        return self._index is not None

    def _build(self, session: Session) -> None:
        started = time.perf_counter()
        newest = catalog.latest_change_id(session)
        # Read what the build covers before reading the table, so a change committed in
        # between is applied again later rather than lost.
        seen = [c[0] for c in catalog.changes_since(session, max(0, newest - REREAD_WINDOW))]
        table = catalog.offering_table(session)
        taxonomy = load_taxonomy()
        self._index = OfferingIndex.build(
            table,
            taxonomy.parents,
            self.config,
            names={c.code: c.name for c in taxonomy.categories},
        )
        self._index.history = History.empty()
        self._refresh_history(session)
        self._by_org = {}
        for offering_id, org_id in zip(table.ids, table.organization_ids, strict=True):
            self._by_org.setdefault(int(org_id), set()).add(int(offering_id))
        self._shown = {}
        self._organizations = {}
        self._briefs = {}
        self._areas = {}
        self._read_shown(session, None, None)
        self._newest = newest
        self._version += 1
        self._applied.clear()
        self._applied.extend(seen)
        log.info(
            "ranking index built: %d offerings in %.2fs",
            len(table),
            time.perf_counter() - started,
        )

    def _catch_up(self, session: Session) -> None:
        low = max(0, self._newest - REREAD_WINDOW)
        count, newest = catalog.change_window(session, low)
        if newest < self._newest:  # the log was emptied or reset: start again
            self._build(session)
            return
        if count == sum(1 for i in self._applied if i > low) and newest == self._newest:
            return
        changes = [c for c in catalog.changes_since(session, low) if c[0] not in self._applied]
        if not changes:
            return
        if any(org is None and offering is None for _, org, offering in changes):
            self._build(session)
            return
        orgs = {org for _, org, _ in changes if org is not None}
        ids = {offering for _, _, offering in changes if offering is not None}
        ids |= catalog.offering_ids_of(session, orgs)
        for org in orgs:
            ids |= self._by_org.get(org, set())
        self._apply(session, ids)
        self._read_shown(session, ids, orgs | {self._shown[i][2] for i in ids if i in self._shown})
        # Partnerships are logged as organization changes (no offering): a batch of offering
        # writes alone cannot have moved the history, so it is neither re-read nor refitted.
        if any(offering is None for _, _, offering in changes):
            self._refresh_history(session)
        self._applied.extend(c[0] for c in changes)
        self._newest = max(self._newest, max(c[0] for c in changes))

    def _apply(self, session: Session, ids: set[int]) -> None:
        assert self._index is not None
        self._version += 1
        table = catalog.offering_table(session, ids)
        present = {int(i) for i in table.ids}
        if len(table):
            self._index.upsert(table)
        gone = ids - present
        if gone:
            self._index.remove(gone)
        for members in self._by_org.values():
            members -= ids
        for offering_id, org_id in zip(table.ids, table.organization_ids, strict=True):
            self._by_org.setdefault(int(org_id), set()).add(int(offering_id))

    def _read_shown(self, session: Session, ids: set[int] | None, orgs: set[int] | None) -> None:
        """Read what results show and the polygon areas: everything (None), or these
        offerings and organizations again."""
        if ids is not None:
            for offering_id in ids:
                self._shown.pop(offering_id, None)
        if orgs is not None:
            for org in orgs:
                self._organizations.pop(org, None)
                self._areas.pop(org, None)
        memo: dict[Any, Any] = {}  # one tuple per distinct category/delivery set, not per row
        rows = catalog.shown_offerings(session, ids)
        if orgs is not None:  # organizations new to this index come with their offerings
            orgs = orgs | {r.organization_id for r in rows} - self._organizations.keys()
        for row in rows:
            categories = memo.setdefault(tuple(row.categories), tuple(row.categories))
            delivery = memo.setdefault(("d", *row.delivery), tuple(row.delivery))
            self._shown[row.id] = (
                row.id,
                row.title,
                row.organization_id,
                categories,
                row.cost,
                delivery,
                row.capacity_schools,
                row.capacity_students,
            )
        self._organizations.update(catalog.shown_organizations(session, orgs))
        self._areas.update(catalog.polygon_areas(session, orgs))
        self._area_orgs = np.array(sorted(self._areas), dtype=np.int64)
        self._area_shapes = [self._areas[org] for org in self._area_orgs.tolist()]

    def _refresh_history(self, session: Session) -> None:
        """Reload the partnership history; learn its weights again only when it changed."""
        assert self._index is not None
        history, held = catalog.partnership_history(session), self._index.history
        same = len(history) == len(held) and all(
            np.array_equal(a, b)
            for a, b in zip(
                (history.organization_ids, history.school_ids, history.lat, history.lon),
                (held.organization_ids, held.school_ids, held.lat, held.lon),
                strict=True,
            )
        )
        same = same and history.categories == held.categories
        if (history.need_index is None) != (held.need_index is None):
            same = False
        elif same and history.need_index is not None:
            same = np.array_equal(history.need_index, held.need_index, equal_nan=True)
        if not same:
            self._index.history = learn_weights(history, self.config)
            self._history_version += 1
