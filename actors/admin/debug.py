"""``/debug``: the live actor tree, one actor, or the dead letters, as Telegram pages.

The runtime's renderers do the writing and the paging; this module picks the renderer
and wraps each page in ``<pre>`` (HTML-escaped), so columns line up in Telegram.
"""

from __future__ import annotations

import html
from typing import Final

from actors.admin.commands import DebugRequest, ShowActor, ShowDeadLetters, ShowTree
from runtime import SystemSnapshot, render_actor, render_dead_letters, render_tree

# Below Telegram's 4096: the limit counts UTF-16 units, the renderers count characters.
PAGE_LIMIT: Final = 4000


def debug_pages(
    request: DebugRequest, snapshot: SystemSnapshot, limit: int = PAGE_LIMIT
) -> tuple[str, ...]:
    """The plain-text pages answering ``request``, each at most ``limit`` characters."""
    match request:
        case ShowTree():
            return render_tree(snapshot, limit)
        case ShowActor(path=path):
            node = snapshot.find(path)
            return (f"no actor at {path}",) if node is None else render_actor(node, limit)
        case ShowDeadLetters():
            return render_dead_letters(snapshot.dead_letters, limit)


def as_pre(page: str) -> str:
    """``page`` as Telegram HTML: preformatted, with ``<``, ``>`` and ``&`` escaped."""
    return f"<pre>{html.escape(page, quote=False)}</pre>"
