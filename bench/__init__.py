"""Benchmarks: ``python -m bench.latency`` (iteration speed against a real Label Studio) and
``python -m bench.label_efficiency`` (labels each query strategy needs, simulated with an oracle).
Measured tables and how to reproduce them: ``bench/README.md``."""
