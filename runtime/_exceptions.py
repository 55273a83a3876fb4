"""How the runtime tells callers that something did not happen.

The runtime imports nothing of the bot's, so it has its own root::

    ActorSystemError
    ├── AskTimeout           no reply within the timeout the caller gave
    ├── ActorNotFound        the address names no live actor and no pool that could spawn one
    ├── ActorStopped         the target stopped (for good) before handling the message
    ├── PoisonMessage        the message failed the actor ``poison_after`` times and was dropped
    ├── UnhandledMessage     the actor has no handler for the message's type
    ├── ChildStartFailed     a supervisor could not start a child during its own start
    └── Escalated            a supervisor exceeded its restart intensity and gave up

Exceptions raised by a handler during an ``ask`` reach the caller unchanged.
"""

from __future__ import annotations


class ActorSystemError(Exception):
    """Root of every error the runtime raises."""


class AskTimeout(ActorSystemError):
    """No reply arrived within the caller's timeout."""


class ActorNotFound(ActorSystemError):
    """Nothing lives at the address and nothing can be spawned there."""


class ActorStopped(ActorSystemError):
    """The target actor stopped for good before it handled the message."""


class PoisonMessage(ActorSystemError):
    """The message made its actor fail too many times in a row and was dropped."""


class UnhandledMessage(ActorSystemError):
    """The target actor has no handler for this type of message."""


class ChildStartFailed(ActorSystemError):
    """A child failed in ``on_start`` while its supervisor was starting."""


class Escalated(ActorSystemError):
    """A supervisor gave up after too many restarts; its parent decides what next."""
