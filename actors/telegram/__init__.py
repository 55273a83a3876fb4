"""Telegram side of the bot: the gateway and how answers are shown in Telegram."""
