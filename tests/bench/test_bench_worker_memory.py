"""`bench http --memory-only`: what one worker holds, then with its result cache filled by
distinct questions answered as GET /v1/schools/{id}/matches answers them (figures printed,
never asserted as sizes)."""

import json

from bench import worker_memory


def test_the_memory_bench_fills_the_result_cache_with_distinct_rendered_pages():
    figures = worker_memory.measure(3000, 0, results=25)
    assert figures["result_cache_entries"] == 25
    assert figures["cached_rss_mb"] > 0 and figures["worker_rss_mb"] > 0


def test_each_kept_answer_is_a_page_of_the_endpoints_json():
    from app.taxonomy import load_taxonomy
    from bench.synthetic import synthetic_offerings
    from matching import OfferingIndex

    taxonomy = load_taxonomy()
    table = synthetic_offerings(3000, 0, [c.code for c in taxonomy.categories])
    index = OfferingIndex.build(table, taxonomy.parents)
    shown = {
        int(i): (int(i), f"Offering {i}", int(o), tuple(c), None, (), None, None)
        for i, o, c in zip(table.ids, table.organization_ids, table.categories, strict=True)
    }
    organizations = {int(o): (f"Organization {o}", True) for o in table.organization_ids}
    cache, total = worker_memory._fill(index, shown, organizations, 10, 0)
    answers = [json.loads(body) for _, body in cache._held.values()]
    assert len(answers) == 10 and total == sum(len(b) for _, b in cache._held.values())
    assert all(a["limit"] == 20 and 0 < len(a["items"]) <= 20 for a in answers)
    assert len({json.dumps(a["items"]) for a in answers}) > 1  # distinct questions
