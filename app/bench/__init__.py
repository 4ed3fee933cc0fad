"""Benchmarks: `partnermap bench NAME` prints what it measured and ends with one JSON line."""
