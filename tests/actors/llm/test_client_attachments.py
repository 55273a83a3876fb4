"""Files on turns reach the emulated providers over HTTP, as each wire format carries them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from actors.config import ProviderConfig, Secret
from actors.errors import RequestRejected
from actors.llm import Attachment, ProviderClient, RetryPolicy, StreamItem, TextDelta, Turn
from tests.actors.files.pdfs import make_pdf
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.llm_script import SeenAttachment
from tests.emulators.openai_compat import OpenAIEmulator

pytestmark = pytest.mark.anyio

PDF = make_pdf("Revenue grew")
JPEG = b"\xff\xd8\xff\xe0fake jpeg"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def client_for(kind: str, base_url: str, model: str) -> AsyncIterator[ProviderClient]:
    config = ProviderConfig(
        name=kind,
        kind="gemini" if kind == "gemini" else "openai",
        base_url=base_url,
        api_key=Secret("sk-test"),
        default_model=model,
        timeout=5.0,
    )
    client = ProviderClient(config, retry=RetryPolicy(attempts=1))
    try:
        yield client
    finally:
        await client.aclose()


async def answer(client: ProviderClient, turn: Turn) -> list[StreamItem]:
    async with contextlib.aclosing(client.stream(None, (turn,))) as stream:
        return [item async for item in stream]


async def test_a_pdf_reaches_gemini_as_inline_data() -> None:
    turn = Turn(
        role="user",
        text="Summarise this.",
        attachments=(Attachment(mime_type="application/pdf", data=PDF, name="r.pdf"),),
    )
    with GeminiEmulator(api_key="sk-test") as api:
        async with client_for("gemini", api.base_url, "gemini-2.5-flash") as client:
            items = await answer(client, turn)

    assert any(isinstance(item, TextDelta) for item in items)
    (request,) = api.generate_requests
    assert request.attachments == (
        SeenAttachment(role="user", mime_type="application/pdf", data=PDF),
    )
    assert request.last_user_text == "Summarise this."


async def test_a_photo_reaches_an_openai_vision_model_as_a_data_url() -> None:
    turn = Turn(
        role="user",
        text="What is this?",
        attachments=(Attachment(mime_type="image/jpeg", data=JPEG, name="photo.jpg"),),
    )
    with OpenAIEmulator(models=("gpt-4o",), vision_models=("gpt-4o",)) as api:
        async with client_for("openai", api.base_url, "gpt-4o") as client:
            await answer(client, turn)

    (request,) = api.generate_requests
    assert request.attachments == (SeenAttachment(role="user", mime_type="image/jpeg", data=JPEG),)
    assert request.last_user_text == "What is this?"


async def test_a_photo_sent_to_a_text_only_openai_model_is_rejected_as_deepseek_does() -> None:
    turn = Turn(role="user", text="?", attachments=(Attachment(mime_type="image/jpeg", data=JPEG),))
    with OpenAIEmulator() as api:
        async with client_for("openai", api.base_url, "deepseek-chat") as client:
            with pytest.raises(RequestRejected, match="unknown variant `image_url`"):
                await answer(client, turn)


async def test_gemini_refuses_inline_data_of_a_type_it_does_not_read() -> None:
    turn = Turn(
        role="user", text="?", attachments=(Attachment(mime_type="application/zip", data=b"PK"),)
    )
    with GeminiEmulator(api_key="sk-test") as api:
        async with client_for("gemini", api.base_url, "gemini-2.5-flash") as client:
            with pytest.raises(RequestRejected, match="Unsupported MIME type"):
                await answer(client, turn)
