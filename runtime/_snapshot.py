"""A picture of the live actor tree, as data (for JSON) and as text (for Telegram)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import msgspec

from runtime._deadletters import DeadLetter
from runtime._stats import FailureInfo

TELEGRAM_LIMIT = 4096
_MINUTE = 60
_HOUR = 3600


class MessageStamp(msgspec.Struct, frozen=True, kw_only=True):
    """A message type an actor handled and when (never the message itself)."""

    type: str
    at: float


class ActorSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One address: its actor and the figures it keeps."""

    path: str
    actor_class: str
    role: str
    state: str
    mailbox_depth: int
    processed: int
    failures: int
    restarts: int
    last_failure: FailureInfo | None
    uptime_s: float
    since_last_message_s: float | None
    recent: tuple[MessageStamp, ...]
    p50_ms: float
    p99_ms: float
    restarts_last_hour: int = 0
    children: tuple[ActorSnapshot, ...] = ()


class SystemSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The whole tree at one moment, plus the most recent dead letters."""

    taken_at: float
    uptime_s: float
    actor_count: int
    dead_letter_total: int
    root: ActorSnapshot | None
    dead_letters: tuple[DeadLetter, ...]

    def walk(self) -> Iterator[tuple[int, ActorSnapshot]]:
        """Every actor with its depth in the tree, parents before children."""
        stack = [(0, self.root)] if self.root else []
        while stack:
            depth, node = stack.pop()
            assert node is not None
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))

    def find(self, path: str) -> ActorSnapshot | None:
        for _, node in self.walk():
            if node.path == path:
                return node
        return None


def paginate(lines: Sequence[str], limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """Join lines into pages of at most ``limit`` characters, cutting only between lines."""
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = raw if len(raw) <= limit else raw[: limit - 1] + "…"
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            pages.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        pages.append("\n".join(current))
    return tuple(pages)


def render_tree(snapshot: SystemSnapshot, limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """The tree as indented lines: path, state, mailbox, processed, failures, restarts."""
    lines = [
        (
            f"{snapshot.actor_count} actors, up {_duration(snapshot.uptime_s)}, "
            f"{snapshot.dead_letter_total} dead letters"
        ),
        "path  state  mailbox/processed/failures/restarts",
    ]
    for depth, node in snapshot.walk():
        lines.append(
            f"{'  ' * depth}{node.path} [{node.state}] "
            f"{node.mailbox_depth}/{node.processed}/{node.failures}/{node.restarts}"
        )
    return paginate(lines, limit)


def render_actor(node: ActorSnapshot, limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """One actor's figures, its last message types with times and its last failure."""
    last = node.since_last_message_s
    since = "never" if last is None else f"{last:.1f}s ago"
    lines = [
        f"{node.path} ({node.actor_class}, {node.role})",
        f"state: {node.state}, up {_duration(node.uptime_s)}",
        (
            f"mailbox: {node.mailbox_depth}, processed: {node.processed}, "
            f"failures: {node.failures}, restarts: {node.restarts}"
        ),
        f"processing p50 {node.p50_ms:.2f} ms, p99 {node.p99_ms:.2f} ms; last message {since}",
    ]
    if node.last_failure is not None:
        failure = node.last_failure
        lines.append(f"last failure: {failure.type}: {failure.message} at {_clock(failure.at)}")
    if node.children:
        lines.append(f"children: {len(node.children)}")
    if node.recent:
        lines.append("recent messages:")
        lines.extend(f"  {_clock(stamp.at)} {stamp.type}" for stamp in reversed(node.recent))
    return paginate(lines, limit)


def render_dead_letters(
    letters: Sequence[DeadLetter], limit: int = TELEGRAM_LIMIT
) -> tuple[str, ...]:
    """The most recent dead letters, newest first."""
    if not letters:
        return ("no dead letters",)
    lines = [
        f"{_clock(letter.at)} {letter.message_type} -> {letter.target}: {letter.reason}"
        f" (cid {letter.correlation_id})"
        for letter in reversed(letters)
    ]
    return paginate(lines, limit)


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(at))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < _MINUTE:
        return f"{seconds}s"
    if seconds < _HOUR:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
