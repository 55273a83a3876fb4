"""What the bot says to people, in one place so wording stays consistent."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

BOT_READY: Final = "Bot ready"
EMPTY_ANSWER: Final = "(the model returned an empty answer)"
ASK_FOR_ACCESS: Final = "Hi! This bot is private. Send /start to ask an admin for access."
ACCESS_REQUESTED: Final = (
    "Thanks! Your request is pending: an admin has been asked to approve it. "
    "I'll tell you here when they decide."
)
ACCESS_STILL_PENDING: Final = (
    "Your access request is still pending. I'll tell you when an admin decides."
)
ACCESS_APPROVED: Final = (
    "You're in! An admin approved your access. Just write to me to start chatting."
)
ACCESS_DECLINED: Final = "Sorry, an admin declined your access request."
ACCESS_RESTORED: Final = "An admin restored your access. Just write to me to carry on."
WELCOME: Final = "Hi {name}! Ask me anything. Send /help to see what I can do."
GROUP_WELCOME: Final = (
    "Hi everyone! Mention me or reply to one of my messages and I'll answer. "
    "Send /help to see what I can do."
)
GROUP_NEEDS_APPROVAL: Final = (
    "Hi! An admin must approve this group before I answer here. I've asked them."
)
GROUP_STILL_PENDING: Final = (
    "This group is waiting for an admin's approval; I'll answer once they approve it."
)
GROUP_APPROVED: Final = (
    "An admin approved this group. Mention me or reply to one of my messages and I'll answer."
)
GROUP_DECLINED: Final = "Sorry, an admin declined this group: I won't answer here."
GROUP_RESTORED: Final = "An admin let this group back in. Mention me and I'll answer again."
CONTEXT_CLEARED: Final = "Context cleared. Let's start fresh."
ADMINS_ONLY: Final = "That command is for admins only."
ADMIN_FAILED: Final = "That didn't work ({error}). Please try again in a moment."
UNKNOWN_COMMAND: Final = "I don't know /{command}. Send /help to see what I can do."
UNSUPPORTED: Final = (
    "I can't read this kind of message (stickers and videos, for instance) yet. "
    "I read text, documents (PDFs and text files), photos and voice messages."
)
FILES_OFF: Final = "I can only read text messages here."
FILE_NOT_STORED: Final = "I couldn't keep this file just now; please send it again in a moment."
FILE_TRUNCATED: Final = (
    "This file is longer than I can take in at once: only its beginning goes to the model."
)
LOST_MESSAGES: Final = (
    "Sorry, something interrupted me and I lost your last message(s). Please send again."
)
REFRESH_OFF: Final = "Model refresh is not available in this setup."
MENU_EXPIRED: Final = "This menu has expired. Send /model again."
MODEL_NOT_IN_TIER: Final = "Your tier does not include this model."
MODE_MENU: Final = "Current mode: {mode}\nChoose how I answer in this chat:"
MODE_SET: Final = "Mode set: {mode}"
MODE_MENU_EXPIRED: Final = "This mode is no longer offered. Send /mode again."
NO_CHAT_MODES: Final = "No modes are configured."
NOTHING_TO_CANCEL: Final = "There is nothing to cancel."
NO_MODELS: Final = "No model is available right now. Please try again later."
HELP: Final = """I'm an assistant that answers with a large language model.

/model — choose the model I use in this chat (now: {model})
/mode — choose how I answer in this chat (now: {mode})
/clear — forget our conversation so far
/usage — how many tokens you have used today and this month, and your limits
/ping — check that I'm up
/help — this message

Long answers arrive in several messages; your messages are answered in order."""
ADMIN_COMMANDS: Final = """Admin:
/admin stats — users, chats, LLM requests and latency today, uptime, restarts
/admin users [pending|active|blocked] [page] — list users, 20 a page
/admin approve <id> — let a user in
/admin reject <id> — decline a request
/admin block <id> — shut a user out at once (they are not told)
/admin unblock <id> — let a blocked user back in
/admin groups [pending|active|blocked|left] [page] — list groups, 20 a page
(approve, reject, block and unblock take a group's id too: it starts with -)
/admin tier <id> <tier> — move a user to another tier (its budgets and models)
/admin usage <id> — one user's use today and this month
/admin models — each provider's known models and its default
/admin refresh — ask every provider for its models now and show what changed
/admin health — overall health and each checked component
/admin login — with ADMIN_PASSWORD set: unlock block, unblock, tier and refresh for a while
/admin logout — lock them again now

Debug:
/debug tree — every actor: state, mailbox, processed, failures, restarts
/debug actor <path> — one actor's figures, e.g. /debug actor /storage
/debug deadletters — the most recent dead letters"""
ADMIN_HELP: Final = "\n\n" + ADMIN_COMMANDS
HEALTH_OFF: Final = "The health supervisor is not running."

PROVIDER_FAILURE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "RateLimited": "The model is busy right now. Please try again in a minute.",
        "ProviderTimeout": "The model took too long to answer. Please try again.",
        "GenerationOverdue": "The model took too long to answer. Please try again.",
        "CircuitOpen": "The model is unavailable at the moment. Please try again shortly.",
        "ProviderUnavailable": "The model is unavailable at the moment. Please try again shortly.",
        "StreamInterrupted": "The answer was cut off by the model provider. Please try again.",
        "AuthenticationFailed": (
            "The model is unavailable at the moment; an admin needs to check it."
        ),
    }
)
PROVIDER_FAILURE_DEFAULT: Final = "Sorry, I couldn't get an answer this time. Please try again."


def provider_failure(error: str) -> str:
    """One short, human line for a provider failure (never the exception's text)."""
    return PROVIDER_FAILURE.get(error, PROVIDER_FAILURE_DEFAULT)
