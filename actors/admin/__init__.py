"""Operating the bot from Telegram: ``/admin`` and ``/debug`` commands, access decisions.

:class:`actors.admin.actor.AdminActor` lives at ``/admin``; its protocol is
:data:`actors.admin.messages.AdminMessage`.
"""
