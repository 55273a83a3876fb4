"""Mapping HTTP answers onto the error tree; Retry-After parsing; scrubbing the key."""

from __future__ import annotations

import email.utils

import pytest

from actors.errors import (
    AuthenticationFailed,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from actors.llm.failures import redact, retry_after_from_headers, status_error


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (429, RateLimited),
        (408, ProviderTimeout),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (400, RequestRejected),
        (404, RequestRejected),
        (413, RequestRejected),
    ],
)
def test_each_status_maps_to_its_error(status: int, kind: type[ProviderError]) -> None:
    error = status_error("p", status, "why")

    assert type(error) is kind
    assert error.provider == "p"
    assert str(error) == f"p: HTTP {status}: why"


def test_retry_after_in_seconds_milliseconds_or_as_a_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)

    assert retry_after_from_headers({"retry-after": "2.5"}) == 2.5
    assert retry_after_from_headers({"retry-after-ms": "750", "retry-after": "9"}) == 0.75
    assert retry_after_from_headers({"retry-after": date}, now=now) == 30.0
    assert retry_after_from_headers({"retry-after": "soon"}) is None
    assert retry_after_from_headers({}) is None


def test_redact_removes_the_key_and_its_recognisable_prefix() -> None:
    key = "sk-abcdefgh12345678"

    assert redact(f"bad key {key}!", key) == "bad key ***!"
    assert redact("Incorrect API key provided: sk-abcde****5678", key) == (
        "Incorrect API key provided: *******5678"
    )
    assert redact("echo sk-abcdefgh...", key) == "echo ***..."
    assert redact("sk-other-key", key) == "sk-other-key"
    assert redact("nothing here", "") == "nothing here"
