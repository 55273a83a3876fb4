"""One actor per chat: the conversation, access control and commands."""
