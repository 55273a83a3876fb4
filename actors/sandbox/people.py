"""The sandbox's simulated Telegram users: the admin, and whoever the page adds.

The emulator forgets its users when the sandbox stops, but the bot's database (kept in
``data/sandbox/``) remembers who was approved. So the users are written to ``users.json``
beside that database and created again at the next start, with the same ids: an approved user
stays approved, and a new user never inherits an old one's id and state.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pathlib import Path

    from tests.emulators.telegram import TelegramEmulator

ADMIN_ID: Final = 100
ADMIN_NAME: Final = "Ada (admin)"
FIRST_USER_ID: Final = 1001
MAX_NAME_LENGTH: Final = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """One simulated user; their private chat with the bot has the same id."""

    id: int
    name: str
    username: str | None
    admin: bool = False

    def to_json(self) -> dict[str, Any]:
        """The page's view of the user."""
        return asdict(self)


class People:
    """Users of the sandbox, created in the emulator and kept in ``users.json``.

    Thread-safe: the page server calls it from one thread per connection.

    Args:
        telegram: the emulator the users live in.
        path: ``users.json``; missing or unreadable means "no users yet" (it is only a demo).
    """

    def __init__(self, telegram: TelegramEmulator, path: Path) -> None:
        self._telegram = telegram
        self._path = path
        self._lock = threading.Lock()
        self._people: dict[int, Person] = {}

    def load(self) -> None:
        """Create the admin and the users of earlier runs in the emulator."""
        saved: list[Person] = []
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
            saved = [
                Person(id=int(item["id"]), name=str(item["name"]), username=item.get("username"))
                for item in raw
                if int(item["id"]) != ADMIN_ID
            ]
        except (OSError, ValueError, TypeError, KeyError):
            saved = []
        with self._lock:
            self._add(Person(id=ADMIN_ID, name=ADMIN_NAME, username="ada_admin", admin=True))
            for person in saved:
                self._add(person)

    def all(self) -> list[Person]:
        """Every user, the admin first, then in the order they were added."""
        with self._lock:
            return list(self._people.values())

    def get(self, user_id: int) -> Person:
        """The user with this id.

        Raises:
            KeyError: no such user.
        """
        with self._lock:
            return self._people[user_id]

    def add(self, name: str) -> Person:
        """A new user named ``name`` (a fresh id), who has not talked to the bot yet.

        Raises:
            ValueError: the name is empty or longer than 64 characters.
        """
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"a name has 1 to {MAX_NAME_LENGTH} characters")
        with self._lock:
            user_id = max((*self._people, FIRST_USER_ID - 1)) + 1
            slug = re.sub(r"[^a-z0-9]", "", name.lower())[:20]
            person = Person(id=user_id, name=name, username=f"{slug}{user_id}" if slug else None)
            self._add(person)
            self._save()
        return person

    def _add(self, person: Person) -> None:
        first, _, last = person.name.partition(" ")
        self._telegram.user(person.id, first, person.username, last_name=last or None)
        self._people[person.id] = person

    def _save(self) -> None:
        users = [p.to_json() for p in self._people.values() if not p.admin]
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps(users, ensure_ascii=False, indent=1), encoding="utf-8")
