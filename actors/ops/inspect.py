"""``python main.py inspect [PATH]``: the running bot's actor tree, from a terminal.

Reads ``/debug/actors`` from the ops endpoint that [ops] listen names and prints a table
(path, state, mailbox, processed, failures, restarts, p99 ms), a keyed pool's members summed
into one ``<pool>/*`` row; with PATH, that actor's figures, its last failure and the types
of the messages it handled last. Nothing here touches the bot's data or Telegram.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, TextIO, TypeVar
from urllib.parse import quote

import msgspec

from actors.config import OpsConfig
from runtime import ActorSnapshot, SystemSnapshot, render_actor

_T = TypeVar("_T")
WILDCARD_HOSTS: Final = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - mapped, not bound
NO_LIMIT: Final = 1_000_000
COLUMNS: Final = ("path", "state", "mailbox", "processed", "failures", "restarts", "p99 ms")
MEMBERS_SHOWN: Final = 50


class InspectError(Exception):
    """Why nothing could be shown: one line for the terminal."""


def inspect(config: OpsConfig, path: str | None, out: TextIO, timeout: float = 5.0) -> int:
    """Print the tree (or the actor at ``path``) to ``out``; return the exit status.

    Raises:
        InspectError: the endpoint is off or unreachable, or there is no actor at ``path``.
    """
    if path is None:
        out.write(render_table(fetch(config, "/debug/actors", SystemSnapshot, timeout)) + "\n")
    else:
        node = fetch(config, f"/debug/actors?path={quote(path)}", ActorSnapshot, timeout)
        out.write(render_detail(node) + "\n")
    return 0


def fetch(config: OpsConfig, target: str, into: type[_T], timeout: float = 5.0) -> _T:
    """GET ``target`` from the ops endpoint and decode its JSON into ``into``.

    Raises:
        InspectError: one line saying what went wrong and what to check.
    """
    where = config.bind_address()
    if where is None:
        raise InspectError(
            'the ops endpoint is off ([ops] listen = ""): set it, e.g. to "127.0.0.1:9464",'
            " and restart the bot"
        )
    host, port = where
    connection = http.client.HTTPConnection(WILDCARD_HOSTS.get(host, host), port, timeout=timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        reason = _reason(exc)
        raise InspectError(
            f"cannot reach the bot's ops endpoint at {config.listen}: {reason}"
            " — is the bot running with [ops] listen set?"
        ) from None
    finally:
        connection.close()
    if response.status == http.client.NOT_FOUND and target.startswith("/debug/actors?"):
        raise InspectError(_error_of(body) or "no such actor")
    if response.status != http.client.OK:
        raise InspectError(
            f"the ops endpoint at {config.listen} answered {response.status}: {body[:200]!r}"
        )
    try:
        return msgspec.json.decode(body, type=into)
    except msgspec.DecodeError as exc:
        raise InspectError(f"unexpected answer from {config.listen}{target}: {exc}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _error_of(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return str(value["error"]) if isinstance(value, dict) and "error" in value else None


@dataclass(kw_only=True)
class _Row:
    path: str
    state: str
    mailbox: int
    processed: int
    failures: int
    restarts: int
    p99_ms: float

    def cells(self) -> tuple[str, ...]:
        return (
            self.path,
            self.state,
            str(self.mailbox),
            str(self.processed),
            str(self.failures),
            str(self.restarts),
            f"{self.p99_ms:.2f}",
        )


def render_table(snapshot: SystemSnapshot) -> str:
    """The tree as an aligned table, indented by depth, pool members summed per pool."""
    rows = list(_rows(snapshot))
    cells = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)  # noqa: PLR2004 - two text columns
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in cells
    ]
    summary = (
        f"{snapshot.actor_count} actors, up {snapshot.uptime_s:.0f} s, "
        f"{snapshot.dead_letter_total} dead letters"
    )
    return "\n".join([summary, "", *lines])


def _rows(snapshot: SystemSnapshot) -> Iterator[_Row]:
    pools: set[str] = set()
    for depth, node in snapshot.walk():  # parents before children
        if node.path != "/" and (node.path.rpartition("/")[0] or "/") in pools:
            continue
        yield _row(node, "  " * depth + node.path)
        if node.role == "pool":
            pools.add(node.path)
            members = node.children
            yield _Row(
                path="  " * (depth + 1) + f"{node.path.rstrip('/')}/* ({len(members)} alive)",
                state="-",
                mailbox=sum(m.mailbox_depth for m in members),
                processed=sum(m.processed for m in members),
                failures=sum(m.failures for m in members),
                restarts=sum(m.restarts for m in members),
                p99_ms=max((m.p99_ms for m in members), default=0.0),
            )


def _row(node: ActorSnapshot, path: str) -> _Row:
    return _Row(
        path=path,
        state=node.state,
        mailbox=node.mailbox_depth,
        processed=node.processed,
        failures=node.failures,
        restarts=node.restarts,
        p99_ms=node.p99_ms,
    )


def render_detail(node: ActorSnapshot) -> str:
    """One actor's figures and recent message types; a pool's members by path."""
    lines = list(render_actor(node, limit=NO_LIMIT))
    if node.role == "pool" and node.children:
        shown = node.children[:MEMBERS_SHOWN]
        lines.append("members: " + ", ".join(child.path for child in shown))
        if len(node.children) > len(shown):
            lines.append(f"  … and {len(node.children) - len(shown)} more")
    return "\n".join(lines)
