"""The side-by-side table every bench prints: ours, a baseline, their ratio, which way is better."""

from __future__ import annotations

Row = tuple[str, float | None, float | None, str]
"""(metric, ours, baseline's, "lower" or "higher")."""


def fmt(value: float | None, *, small_digits: int = 2) -> str:
    """A figure for the table: thousands grouped, fewer decimals the bigger it is."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{small_digits}f}"


def render(table: list[Row], *, baseline: str, small_digits: int = 2) -> str:
    """The rows as aligned text, headed ``metric ours <baseline> ours/<baseline> better``."""
    header = ("metric", "ours", baseline, f"ours/{baseline}", "better")
    lines = [header]
    for label, ours, theirs, better in table:
        ratio = f"{ours / theirs:.2f}" if ours is not None and theirs else "-"
        lines.append(
            (
                label,
                fmt(ours, small_digits=small_digits),
                fmt(theirs, small_digits=small_digits),
                ratio,
                better,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
