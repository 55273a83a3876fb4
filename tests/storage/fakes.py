"""Fakes for storage tests: a clock the test moves by hand."""

from __future__ import annotations

START = 1_700_000_000.0


class FakeClock:
    """A ``Clock`` that stands still until the test advances it."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
