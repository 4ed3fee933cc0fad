"""Benchmarks and their seeded synthetic data, kept out of the service and the pure libraries.

`partnermap bench NAME` prints what it measured and ends with one JSON line."""
