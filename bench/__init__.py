"""Benchmarks: `python -m bench.run` (REST load, ours vs vanilla `rasa init`)."""
