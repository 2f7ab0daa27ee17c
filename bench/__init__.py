"""Benchmarks for dispute-desk (print figures; never assert timings). See bench/README.md."""
