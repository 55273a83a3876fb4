"""What the bot says to people, in one place so wording stays consistent."""

from __future__ import annotations

from typing import Final

BOT_READY: Final = "Bot ready"
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
WELCOME: Final = "Hi {name}! Ask me anything. Send /help to see what I can do."
CONTEXT_CLEARED: Final = "Context cleared. Let's start fresh."
ADMINS_ONLY: Final = "That command is for admins only."
UNKNOWN_COMMAND: Final = "I don't know /{command}. Send /help to see what I can do."
UNSUPPORTED: Final = "I can only read text messages for now."
MENU_EXPIRED: Final = "This menu has expired. Send /model again."
NO_MODELS: Final = "No model is available right now. Please try again later."
HELP: Final = """I'm an assistant that answers with a large language model.

/model — choose the model I use in this chat (now: {model})
/clear — forget our conversation so far
/ping — check that I'm up
/help — this message

Long answers arrive in several messages; your messages are answered in order."""
ADMIN_HELP: Final = """

Admin:
/admin approve <id> — let a user in
/admin reject <id> — decline a request
/admin users [pending|active|blocked] — list users"""

PROVIDER_FAILURE: Final = {
    "RateLimited": "The model is busy right now. Please try again in a minute.",
    "ProviderTimeout": "The model took too long to answer. Please try again.",
    "GenerationOverdue": "The model took too long to answer. Please try again.",
    "CircuitOpen": "The model is unavailable at the moment. Please try again shortly.",
    "ProviderUnavailable": "The model is unavailable at the moment. Please try again shortly.",
    "StreamInterrupted": "The answer was cut off by the model provider. Please try again.",
}
PROVIDER_FAILURE_DEFAULT: Final = "Sorry, I couldn't get an answer this time. Please try again."


def provider_failure(error: str) -> str:
    """One short, human line for a provider failure (never the exception's text)."""
    return PROVIDER_FAILURE.get(error, PROVIDER_FAILURE_DEFAULT)
