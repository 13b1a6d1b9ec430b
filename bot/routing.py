"""Who handles what: village -> office, office -> alert recipients, and who is an officer.

No report is lost for want of a recipient: an office with nowhere to send alerts has them sent
to the Kantor Wilayah's, and a Kantor Wilayah with none to every office that has somewhere. The
officers who receive another office's alerts that way may act on its cases (they cover it).
The terminal chat's stand-in officers ("[petugas SGU]") count only while the terminal chat is the
bot: a live bot cannot deliver to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Office, Secrets, Settings, Village
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


def reachable(office: Office) -> list[Sender]:
    """An office's own chats: its alert groups and numbers, else its officers' own chats."""
    out = [Sender(Channel.TELEGRAM, str(c)) for c in office.telegram_chat_ids]
    out += [Sender(Channel.WHATSAPP, f"whatsapp:{n}") for n in office.whatsapp_numbers]
    if not out:
        for officer in office.officers:
            if officer.telegram_id is not None:
                out.append(Sender(Channel.TELEGRAM, str(officer.telegram_id)))
            elif officer.whatsapp:
                out.append(Sender(Channel.WHATSAPP, f"whatsapp:{officer.whatsapp}"))
    return out


def has_live_channel(secrets: Secrets) -> bool:
    """True when `run` would start a real channel (Telegram, or WhatsApp through Twilio)."""
    return bool(secrets.telegram_token or (secrets.twilio_account_sid and secrets.twilio_auth_token
                                           and secrets.twilio_whatsapp_from))


def own_recipients(settings: Settings, office: Office, stand_ins: bool | None = None) -> list[Sender]:
    """An office's own chats, or in the terminal chat the stand-in of its first officer."""
    out = reachable(office)
    if stand_ins is None:
        stand_ins = not has_live_channel(settings.secrets)
    if not out and office.officers and stand_ins:
        out.append(console_officer(office.id))
    return out


def alert_offices(settings: Settings, office: Office, stand_ins: bool | None = None) -> tuple[Office, ...]:
    """The offices whose recipients get this office's alerts.

    Its own, else the Kantor Wilayah, else every office that has a recipient (none only when no
    office has any).
    """
    if own_recipients(settings, office, stand_ins):
        return (office,)
    regional = settings.regional_office
    if regional is not None and regional is not office and own_recipients(settings, regional, stand_ins):
        return (regional,)
    return tuple(o for o in settings.all_offices if own_recipients(settings, o, stand_ins))


def alert_gaps(settings: Settings) -> list[str]:
    """A warning for each office that cannot receive alerts in a chat, saying where they go instead."""
    paths = {o.id: f"offices[{i}]" for i, o in enumerate(settings.offices)}
    if settings.regional_office is not None:
        paths[settings.regional_office.id] = "regional_office"
    warnings = []
    for office in settings.all_offices:
        if reachable(office):
            continue
        others = alert_offices(settings, office, stand_ins=False)
        instead = ("a live bot sends its alerts to " + ", ".join(o.id for o in others)) if others \
            else "a live bot cannot send its alerts to anyone"
        if office.officers:
            instead += f"; the terminal chat shows them as [petugas {office.id}]"
        warnings.append(f"config {paths[office.id]} ({office.id}): no alert recipient (alerts.telegram_chat_ids, "
                        f"alerts.whatsapp_numbers, or an officer's telegram_id or whatsapp): {instead}")
    return warnings


class Routing:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._officers: dict[Sender, OfficerIdentity] = {}
        offices = settings.all_offices
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
        # office id -> the offices whose officers receive its alerts in its stead
        self._covering = {o.id: frozenset(c.id for c in alert_offices(settings, o)) - {o.id} for o in offices}

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
        """Where an office's alerts go: its own chats, else those of the offices covering it."""
        out: list[Sender] = []
        for o in alert_offices(self.settings, office):
            out += [r for r in own_recipients(self.settings, o) if r not in out]
        return out

    def own_recipients(self, office: Office) -> list[Sender]:
        """An office's own chats only (a copy for the Kantor Wilayah, its escalations)."""
        return own_recipients(self.settings, office)

    def covered_by(self, office_id: str) -> tuple[str, ...]:
        """The offices whose cases this office's officers act on, their alerts having nowhere else to go."""
        return tuple(o for o, covering in self._covering.items() if office_id in covering)

    def can_act(self, who: OfficerIdentity, office_id: str) -> bool:
        return who.regional or who.office_id == office_id or who.office_id in self._covering.get(office_id, ())
