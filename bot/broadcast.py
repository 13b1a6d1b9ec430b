"""Announcements to villagers: who may send them, to which villages, the preview, and the sending."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.config import Settings, Village
from bot.content import Content
from bot.models import Channel, Option, Outgoing, Reply
from bot.routing import OfficerIdentity
from bot.store import Store
from bot.textnorm import fold
from bot.villages import find_village

ALL = "semua"
MAX_TEXT = 900


@dataclass(frozen=True)
class Draft:
    office_id: str
    target: str                  # a village id, or "semua"
    village_ids: tuple[str, ...]
    text: str


def targets(settings: Settings, who: OfficerIdentity, target: str) -> tuple[str, ...] | None:
    """The villages an officer may address with `target`, or None when it is not theirs."""
    own = [v for v in settings.villages if who.regional or v.office_id == who.office_id]
    if fold(target) == ALL:
        return tuple(v.id for v in own)
    village: Village | None = find_village(settings, target)
    if village is None or village not in own:
        return None
    return (village.id,)


class Broadcasts:
    def __init__(self, settings: Settings, content: Content, store: Store) -> None:
        self.settings = settings
        self.content = content
        self.store = store

    def _msg(self, key: str, **values: str) -> str:
        return self.content.message(key, **values)

    async def prepare(self, who: OfficerIdentity, target: str, text: str) -> tuple[Reply, Draft | None]:
        """The preview an officer confirms, or why the announcement cannot go."""
        if not who.can_broadcast:
            return Reply(self._msg("broadcast_not_allowed")), None
        if not text or len(text) > MAX_TEXT:
            return Reply(self._msg("broadcast_usage", max=str(MAX_TEXT))), None
        village_ids = targets(self.settings, who, target)
        if not village_ids:
            return Reply(self._msg("broadcast_unknown_target", target=target[:40])), None
        audience = await self.store.broadcast_audience(village_ids)
        names = ", ".join(self.settings.village(v).name for v in village_ids)
        draft = Draft(who.office_id, target if fold(target) == ALL else village_ids[0], village_ids, text)
        preview = self._msg("broadcast_preview", villages=names, n=str(len(audience)),
                            text=self.render(who.office_id, text))
        return Reply(preview, (Option(self._msg("broadcast_send"), "broadcast:send"),
                               Option(self._msg("cancel"), "broadcast:cancel"))), draft

    def render(self, office_id: str, text: str) -> str:
        office = self.settings.office(office_id)
        return f"{self._msg('broadcast_heading', kantor_nama=office.name)}\n\n{text}"

    async def send(self, who: OfficerIdentity, draft: Draft, now: dt.datetime) -> tuple[int, int]:
        """Queue the announcement for every registered villager; returns (broadcast id, count)."""
        audience = [s for s in await self.store.broadcast_audience(draft.village_ids)
                    if s.channel is not Channel.CONSOLE or s.user_id == "warga"]
        body = self.render(draft.office_id, draft.text)
        items = [Outgoing(s, body, "broadcast") for s in audience]
        broadcast_id = await self.store.record_broadcast(
            office_id=draft.office_id, actor=who.name, target=draft.target, text=draft.text,
            items=items, now=now)
        return broadcast_id, len(items)
