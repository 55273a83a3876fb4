"""A network failure says whether the call may have reached Telegram (issue #6).

Each failure is raised by an httpx transport under PTB's own ``HTTPXRequest``, so the tests
also pin down how PTB wraps httpx's exceptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

from actors.telegram.delivery import Delivery, delivery_of

URL = "https://api.telegram.org/bot123:ABC/sendMessage"


Handler = Callable[[httpx.Request], httpx.Response]


def error_from(failure: Exception | Handler) -> NetworkError:
    """The PTB error a ``sendMessage`` ends in when the transport raises (or answers) so."""

    def fail(request: httpx.Request) -> httpx.Response:
        assert isinstance(failure, Exception)
        raise failure

    handler = fail if isinstance(failure, Exception) else failure

    async def call() -> NetworkError:
        request = HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(handler)})
        await request.initialize()
        try:
            await request.post(URL)
        except NetworkError as error:
            return error
        finally:
            await request.shutdown()
        raise AssertionError("the request did not fail")

    return asyncio.run(call())


NOT_SENT = {
    "a_refused_connection": httpx.ConnectError("connection refused"),
    "a_connect_timeout": httpx.ConnectTimeout("connect timed out"),
    "a_pool_timeout": httpx.PoolTimeout("no free connection"),
    "a_write_timeout": httpx.WriteTimeout("write timed out"),
    "a_write_error": httpx.WriteError("broken pipe"),
}


@pytest.mark.parametrize("failure", NOT_SENT.values(), ids=NOT_SENT.keys())
def test_a_failure_before_the_request_was_all_sent_is_known_not_to_have_reached_telegram(
    failure: Exception,
) -> None:
    assert delivery_of(error_from(failure)) is Delivery.NOT_SENT


def test_a_read_timeout_means_telegram_probably_took_the_request() -> None:
    assert delivery_of(error_from(httpx.ReadTimeout("read timed out"))) is Delivery.PROBABLY_SENT


MAYBE_SENT = {
    "a_server_that_hung_up": httpx.RemoteProtocolError("Server disconnected"),
    "a_connection_reset_while_reading": httpx.ReadError("connection reset"),
}


@pytest.mark.parametrize("failure", MAYBE_SENT.values(), ids=MAYBE_SENT.keys())
def test_a_connection_lost_while_awaiting_the_answer_may_have_reached_telegram(
    failure: Exception,
) -> None:
    assert delivery_of(error_from(failure)) is Delivery.MAYBE_SENT


def test_an_error_status_from_telegram_counts_as_not_sent() -> None:
    def bad_gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, json={"ok": False, "description": "Bad Gateway"})

    assert delivery_of(error_from(bad_gateway)) is Delivery.NOT_SENT
