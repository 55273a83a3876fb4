"""A local sandbox: the real bot against the Telegram emulator, played from a web page.

``python main.py --sandbox`` runs it (:func:`actors.sandbox.app.run_sandbox`); see
docs/sandbox.md. The emulators it starts live in ``tests/emulators/`` (the ones the tests use),
so it runs from a checkout of the project; this module imports none of it, so that ``main.py``
loads the emulators only when the sandbox is asked for.

Modules: ``app`` (starts and stops everything), ``config`` (the sandbox's configuration),
``demo`` (the offline demo model), ``people`` (the simulated users), ``web`` (the page and its
JSON API), ``render`` (entities to safe HTML), ``static/`` (the page itself).
"""

from typing import Final

DEFAULT_PORT: Final = 8765
"""The page's port on 127.0.0.1 unless ``--sandbox-port`` says otherwise."""

__all__ = ["DEFAULT_PORT"]
