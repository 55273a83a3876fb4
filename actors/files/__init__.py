"""Files users send (documents, photos, voice): limits, storage, extraction, what models read.

One concept per module, each plain functions and values, no actors and no I/O but the file
store's, so every step is tested as data:

- :mod:`~actors.files.policy`: accept or refuse from what the update announces, before
  anything is downloaded (``[files]`` limits);
- :mod:`~actors.files.store`: bytes on disk under ``[storage] files_dir``, generated names;
- :mod:`~actors.files.extract`: text out of PDFs and text files, cut to a token budget;
- :mod:`~actors.files.capabilities`: what each configured model reads natively;
- :mod:`~actors.files.prepare`: file + caption + model -> the turn to send, or a clear no;
- :mod:`~actors.files.tokens`: what a file sent as itself costs in the context budget.
"""

from actors.files.capabilities import Capabilities, ModelChoice, capabilities_of, model_that_reads
from actors.files.extract import Extracted, can_extract, decode_text, extract_text, truncate
from actors.files.policy import (
    DEFAULT_INSTRUCTION,
    Accepted,
    Announced,
    Decision,
    FileKind,
    Refused,
    decide,
    effective_mime,
    format_size,
    is_text,
    mime_allowed,
    size_refusal,
)
from actors.files.prepare import CannotRead, FileContent, FileTurn, Prepared, prepare
from actors.files.store import FileStore, StoredFile, extension_for
from actors.files.tokens import attachment_tokens

__all__ = [
    "DEFAULT_INSTRUCTION",
    "Accepted",
    "Announced",
    "CannotRead",
    "Capabilities",
    "Decision",
    "Extracted",
    "FileContent",
    "FileKind",
    "FileStore",
    "FileTurn",
    "ModelChoice",
    "Prepared",
    "Refused",
    "StoredFile",
    "attachment_tokens",
    "can_extract",
    "capabilities_of",
    "decide",
    "decode_text",
    "effective_mime",
    "extension_for",
    "extract_text",
    "format_size",
    "is_text",
    "mime_allowed",
    "model_that_reads",
    "prepare",
    "size_refusal",
    "truncate",
]
