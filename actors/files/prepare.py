"""A file and its caption, made into the turn one particular model can take, or a clear no.

Three outcomes, decided by what the model reads (:mod:`actors.files.capabilities`):

- it reads the type natively: the file travels as an :class:`~actors.llm.wire.Attachment`;
- it does not, but the file is a PDF or text: the extracted text travels in the turn, cut to
  the budget with a note saying so;
- neither (an image or a voice message to a text-only model, a scanned PDF): a one-line
  refusal naming a configured model that can read it.

Follow-up questions need the file's content too. So the turn comes with ``remembered``: the
text kept in the context in its place. For a file a model read natively that is the
extracted text when there is one (a PDF), otherwise a line saying what was sent; then
``reattach`` is set, and the session keeps a reference to the stored file with the turn, so
follow-ups to a model that reads it get the file itself again (the line stands alone for
any other model, or once the file is gone).
"""

from __future__ import annotations

import msgspec

from actors.errors import FileUnreadable
from actors.files.capabilities import Capabilities, ModelChoice
from actors.files.extract import Extracted, can_extract, extract_text
from actors.files.policy import DEFAULT_INSTRUCTION
from actors.llm.wire import Attachment, Turn


class FileContent(msgspec.Struct, frozen=True, kw_only=True):
    """A downloaded file: its bytes, effective MIME type and the name to show (not a path)."""

    name: str
    mime_type: str
    data: bytes


class FileTurn(msgspec.Struct, frozen=True, kw_only=True):
    """The user turn to send now, and the text to keep in the context for follow-ups.

    ``truncated`` says the extracted text was cut, so the session can tell the user;
    ``reattach`` says ``remembered`` does not carry the file's content (an image, audio),
    so follow-ups need the file itself.
    """

    turn: Turn
    remembered: str
    truncated: bool = False
    reattach: bool = False


class CannotRead(msgspec.Struct, frozen=True, kw_only=True):
    """The model cannot take this file; ``reason`` is the one line the user reads."""

    reason: str


Prepared = FileTurn | CannotRead


def prepare(
    file: FileContent,
    caption: str | None,
    *,
    model: ModelChoice,
    capabilities: Capabilities,
    max_tokens: int,
    alternative: ModelChoice | None,
) -> Prepared:
    """Turn ``file`` and its caption into what ``model`` can take.

    Args:
        file: The downloaded file.
        caption: The user's instruction; empty or None asks for a summary.
        model: The model the answer will come from (named in a refusal).
        capabilities: What that model reads natively.
        max_tokens: Budget for extracted text.
        alternative: A configured model that reads this type natively, for a refusal.
    """
    instruction = (caption or "").strip() or DEFAULT_INSTRUCTION
    if capabilities.reads(file.mime_type):
        extracted = _try_extract(file, max_tokens)
        attachment = Attachment(mime_type=file.mime_type, data=file.data, name=file.name)
        remembered = (
            with_text(instruction, file, extracted)
            if extracted is not None
            else f"{instruction}\n\n[{_what(file)} sent to the model: {file.name}]"
        )
        return FileTurn(
            turn=Turn(role="user", text=instruction, attachments=(attachment,)),
            remembered=remembered,
            reattach=extracted is None,
        )
    if can_extract(file.mime_type):
        try:
            extracted = extract_text(file.data, file.mime_type, max_tokens=max_tokens)
        except FileUnreadable as exc:
            return CannotRead(reason=_with_suggestion(str(exc), alternative))
        text = with_text(instruction, file, extracted)
        return FileTurn(
            turn=Turn(role="user", text=text), remembered=text, truncated=extracted.truncated
        )
    problem = f"{model.model} can't {_verb(file)}."
    return CannotRead(reason=_with_suggestion(problem, alternative))


def with_text(instruction: str, file: FileContent, extracted: Extracted) -> str:
    """The instruction, then the file's text fenced off with its name and type."""
    return (
        f"{instruction}\n\n"
        f'<file name="{_attribute(file.name)}" type="{file.mime_type}">\n'
        f"{extracted.text}\n"
        "</file>"
    )


def _try_extract(file: FileContent, max_tokens: int) -> Extracted | None:
    if not can_extract(file.mime_type):
        return None
    try:
        return extract_text(file.data, file.mime_type, max_tokens=max_tokens)
    except FileUnreadable:
        return None  # the model reads it natively anyway; only follow-ups lose detail


def _with_suggestion(problem: str, alternative: ModelChoice | None) -> str:
    if alternative is None:
        return f"{problem} None of the models configured here can; ask the bot's admin."
    return (
        f"{problem} {alternative.model} ({alternative.provider}) can: "
        "switch to it with /model and send the file again."
    )


def _what(file: FileContent) -> str:
    major = file.mime_type.split("/", 1)[0]
    return {"image": "Image", "audio": "Audio"}.get(major, "File")


def _verb(file: FileContent) -> str:
    major = file.mime_type.split("/", 1)[0]
    if major == "image":
        return "look at images"
    if major == "audio":
        return "listen to voice messages or audio"
    return f"read {file.mime_type} files"


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
