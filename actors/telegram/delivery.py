"""Did a Bot API call that failed on the network reach Telegram anyway?

PTB turns every transport failure into ``telegram.error.TimedOut`` or ``NetworkError`` and
keeps httpx's exception as ``__cause__`` (``telegram/request/_httpxrequest.py``); an HTTP
error status (a 502 from Telegram's front end) is a ``NetworkError`` with no cause. What
the cause says decides whether a resend could show a message twice::

    httpx.TransportError
    ├── ConnectError, ConnectTimeout, PoolTimeout, ProxyError   -> NOT_SENT
    ├── WriteError, WriteTimeout (the request was cut short)    -> NOT_SENT
    ├── ReadTimeout (Telegram had it all, and did not answer)   -> PROBABLY_SENT
    └── ReadError, RemoteProtocolError (the line dropped while
        waiting for the answer)                                 -> MAYBE_SENT

Telegram acts on a request only once it has all of it, so a failure while connecting or
writing left nothing behind. A read timeout means Telegram had the whole request and was
working on it: it most likely went through (the usual cause is a slow Telegram, which a
resend only makes show twice). A connection that drops while the answer is awaited is most
often a kept-alive connection Telegram had closed while idle, so the request was never read,
but it may also be a line lost after the message was made. Anything else (an HTTP error
status, an error from outside httpx) counts as not sent, as it always did.
"""

from __future__ import annotations

import enum

import httpx
from telegram.error import NetworkError


class Delivery(enum.Enum):
    """What became of a call that failed on the network, as far as we can tell."""

    NOT_SENT = "not sent"
    MAYBE_SENT = "maybe sent"
    PROBABLY_SENT = "probably sent"


_MAYBE_SENT = (httpx.ReadError, httpx.RemoteProtocolError)


def delivery_of(error: NetworkError) -> Delivery:
    """Whether the call that raised ``error`` may have been carried out by Telegram."""
    cause = error.__cause__
    if isinstance(cause, httpx.ReadTimeout):
        return Delivery.PROBABLY_SENT
    if isinstance(cause, _MAYBE_SENT):
        return Delivery.MAYBE_SENT
    return Delivery.NOT_SENT
