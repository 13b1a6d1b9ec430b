"""Who may see and do what in the console: roles from the config, and the offices a reader's queries cover."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from bot.config import Office, Officer, Settings
from bot.models import Channel, Sender
from bot.routing import OfficerIdentity, alert_offices


@dataclass(frozen=True)
class Scope:
    """A logged-in officer's rights. `offices` is the only way any case query learns what it may read.

    officer: the cases of their own office; head: the same, and may assign cases and read the
    trail; regional: every office's cases, may act, assign and read the trail (as in chat);
    editor: no cases, the unanswered questions.
    """

    officer_key: str
    name: str
    office_id: str
    role: str
    offices: tuple[str, ...]
    unplaced: bool      # also figures of askers with no village (only the regional office)

    @property
    def cases(self) -> bool:
        return bool(self.offices)

    @property
    def can_assign(self) -> bool:
        return self.role in ("head", "regional")

    @property
    def can_trail(self) -> bool:
        return self.role in ("head", "regional")

    @property
    def can_edit(self) -> bool:
        return self.role in ("editor", "regional")

    @property
    def identity(self) -> OfficerIdentity:
        """The officer as casework knows them from chat: the same rules, the same name."""
        return OfficerIdentity(self.office_id, self.name, self.role == "regional")


@dataclass(frozen=True)
class DeskOfficer:
    office: Office
    officer: Officer

    @property
    def key(self) -> str:
        return self.officer.key


class Directory:
    """The officers of the config, found by what they type at the login (Telegram id or @name, WhatsApp)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_key = {o.key: DeskOfficer(office, o) for office, o in settings.officers()}

    def get(self, key: str) -> DeskOfficer | None:
        return self._by_key.get(key)

    def of_office(self, office_id: str) -> list[DeskOfficer]:
        return [d for d in self._by_key.values() if d.office.id == office_id]

    def find(self, typed: str) -> tuple[DeskOfficer, Sender] | None:
        """The officer and the chat to send their code to, or None."""
        text = typed.strip()
        if not text or len(text) > 64:
            return None
        bare = text.lstrip("@").lower()
        for d in self._by_key.values():
            o = d.officer
            if o.telegram_id is not None and bare == str(o.telegram_id):
                return d, Sender(Channel.TELEGRAM, str(o.telegram_id))
            if o.telegram_username and o.telegram_id is not None and bare == o.telegram_username.lower():
                return d, Sender(Channel.TELEGRAM, str(o.telegram_id))
        try:
            number = phonenumbers.parse(text, "ID")
        except phonenumbers.NumberParseException:
            return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for d in self._by_key.values():
            if d.officer.whatsapp == e164:
                return d, Sender(Channel.WHATSAPP, f"whatsapp:{e164}")
        return None

    def scope(self, key: str) -> Scope | None:
        d = self._by_key.get(key)
        if d is None:
            return None
        role = d.officer.role
        every = tuple(o.id for o in self.settings.offices) + (
            (self.settings.regional_office.id,) if self.settings.regional_office else ())
        if role == "regional":
            offices = every
        elif role == "editor":
            offices = ()
        else:
            # With the offices whose alerts come here for want of their own recipients, as in chat.
            offices = (d.office.id, *(o.id for o in self.settings.all_offices if o.id != d.office.id
                                      and d.office.id in {c.id for c in alert_offices(self.settings, o)}))
        return Scope(d.key, d.officer.name, d.office.id, role, offices, role == "regional")
