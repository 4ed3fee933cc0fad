"""`bench clients`: the figures of a storm count every request, answered or not."""

from collections import Counter

from bench import clients


def test_the_summary_counts_every_request_and_only_200s_as_answered():
    figures = clients.summary(Counter({200: 6, 503: 3, 0: 1}), [1.0] * 9 + [5000.0], 5.25)
    assert figures["requests"] == 10
    assert figures["answered"] == 6
    assert figures["statuses"] == {"0": 1, "200": 6, "503": 3}
    assert figures["max_ms"] == 5000.0
    assert figures["p50_ms"] == 1.0
    assert figures["wall_s"] == 5.25


def test_a_storm_with_no_request_has_no_answer():
    figures = clients.summary(Counter(), [], 0.0)
    assert figures["requests"] == 0 and figures["answered"] == 0
