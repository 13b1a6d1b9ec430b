"""Who handles what: village -> office, office -> alert recipients, and who is an officer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Office, Settings, Village
from bot.models import Channel, Sender


@dataclass(frozen=True)
class OfficerIdentity:
    office_id: str
    name: str
    regional: bool       # the regional office sees and acts on every office's cases
    can_broadcast: bool = False


def console_officer(office_id: str) -> Sender:
    """The terminal chat's stand-in for the first officer of an office ("petugas>" lines)."""
    return Sender(Channel.CONSOLE, f"petugas-{office_id}")


class Routing:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._officers: dict[Sender, OfficerIdentity] = {}
        offices = list(settings.offices)
        if settings.regional_office:
            offices.append(settings.regional_office)
        for office in offices:
            regional = office is settings.regional_office
            for i, officer in enumerate(office.officers):
                who = OfficerIdentity(office.id, officer.name, regional, officer.can_broadcast)
                if officer.telegram_id is not None:
                    self._officers[Sender(Channel.TELEGRAM, str(officer.telegram_id))] = who
                if officer.whatsapp:
                    self._officers[Sender(Channel.WHATSAPP, f"whatsapp:{officer.whatsapp}")] = who
                if i == 0:
                    self._officers[console_officer(office.id)] = who

    def officer(self, sender: Sender) -> OfficerIdentity | None:
        return self._officers.get(sender)

    def village(self, village_id: str | None) -> Village | None:
        if village_id is None:
            return None
        try:
            return self.settings.village(village_id)
        except KeyError:
            return None   # a village removed from the config since the villager chose it

    def office_of(self, village: Village) -> Office:
        return self.settings.office(village.office_id)

    def recipients(self, office: Office) -> list[Sender]:
        """Where an office's alerts go: its groups and numbers, else its officers' own chats."""
        out = [Sender(Channel.TELEGRAM, str(c)) for c in office.telegram_chat_ids]
        out += [Sender(Channel.WHATSAPP, f"whatsapp:{n}") for n in office.whatsapp_numbers]
        if not out:
            for officer in office.officers:
                if officer.telegram_id is not None:
                    out.append(Sender(Channel.TELEGRAM, str(officer.telegram_id)))
                elif officer.whatsapp:
                    out.append(Sender(Channel.WHATSAPP, f"whatsapp:{officer.whatsapp}"))
        if not out and office.officers:
            out.append(console_officer(office.id))
        return out

    def can_act(self, who: OfficerIdentity, office_id: str) -> bool:
        return who.regional or who.office_id == office_id
