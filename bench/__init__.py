"""Benchmarks of the runtime and of the bot; not part of the test suite (see README.md)."""
