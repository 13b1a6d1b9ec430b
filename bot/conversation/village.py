"""Which village the villager lives in: a Desa Imigrasi village, or any other place in the province."""

from __future__ import annotations

from bot.config import Area
from bot.conversation.turn import Kit, Turn
from bot.models import Option
from bot.villages import Place, clean, find_area, find_village, office_for, place_of, typed_name

# Longer than this is a message, not a village name.
_MAX_NAME = 60


class VillageFlow:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def _areas(self, dont_know: bool = False) -> tuple[Option, ...]:
        areas = tuple(Option(a.kabupaten, f"kab:{a.kabupaten}") for a in self.kit.settings.areas) or tuple(
            Option(k, f"kab:{k}") for k in sorted({v.kabupaten for v in self.kit.settings.villages}))
        # Someone who does not know their kabupaten still reaches an office: the regional one.
        return areas + ((Option(self.kit.msg("village_kab_dont_know"), "kab:-"),) if dont_know else ())

    def _area(self, name: str) -> Area | None:
        return next((a for a in self.kit.settings.areas if a.kabupaten == name), None)

    def prompt(self, turn: Turn, then: str, intro: str | None = None) -> None:
        turn.go("village", then=then, stage="name", keep=turn.data.get("keep"))
        text = self.kit.msg("village_prompt")
        turn.say(f"{intro}\n{text}" if intro else text, self._areas())

    def current(self, turn: Turn) -> None:
        kit = self.kit
        if turn.place is None:
            self.prompt(turn, then="menu")
            return
        values = kit.office_values(turn.place)
        key = "village_current" if turn.place.listed else "village_current_unlisted"
        turn.go("menu")
        turn.say(kit.msg(key, **{k: values.get(k) for k in ("desa_nama", "kantor_nama", "petugas_nama")}), (
            Option(kit.msg("village_change"), "kab:"), Option(kit.msg("person_option"), "person"),
            kit.menu_option()))

    async def handle(self, turn: Turn) -> None:
        """A message while the village is being asked."""
        payload = turn.payload
        stage = turn.data.get("stage", "name")
        if payload is not None:
            kind, _, value = payload.partition(":")
            if kind == "kab":
                await self.kabupaten(turn, value)
            elif kind == "village" and value == "other":
                self._ask_name(turn)
            elif kind == "village" and value == "noname":
                await self._named(turn, "", turn.data.get("kabupaten", ""), turn.data.get("kecamatan", ""))
            elif kind == "village":
                await self.chosen(turn, value)
            elif kind == "kec":
                await self._kecamatan(turn, "" if value == "skip" else value)
            else:
                self.prompt(turn, turn.data.get("then", "menu"))
            return
        text = turn.text
        if not text:
            turn.say(self.kit.msg("village_type_name"), self._areas())
            return
        if not await self._is_a_place(turn, text):
            return
        if stage == "kecamatan":
            await self._kecamatan(turn, text)
            return
        if stage == "other_name":
            await self._named(turn, text, turn.data.get("kabupaten", ""), turn.data.get("kecamatan", ""))
            return
        if stage == "name_kab":
            village = find_village(self.kit.settings, text)
            if village is not None:   # the name typed again, right this time
                await self.chosen(turn, village.id)
                return
            area = find_area(self.kit.settings, text)
            if area is None:
                turn.say(self.kit.msg("village_kab_unknown", text=text[:_MAX_NAME]), self._areas())
                return
            turn.data.update(kabupaten=area[0].kabupaten, kecamatan=area[1])
            self._ask_kecamatan_or_finish(turn)
            if turn.data["stage"] == "ready":
                await self._finish_unlisted(turn)
            return
        village = find_village(self.kit.settings, text)
        if village is not None:
            await self.chosen(turn, village.id)
            return
        area = find_area(self.kit.settings, text)
        if area is not None:
            await self.kabupaten(turn, area[0].kabupaten, kecamatan=area[1])
            return
        # A village we do not know: keep the name as typed and ask where it is.
        turn.data.update(stage="name_kab", name=text.strip())
        turn.say(self.kit.msg("village_not_listed", text=text.strip()), self._areas(dont_know=True))

    async def kabupaten(self, turn: Turn, kabupaten: str, kecamatan: str = "") -> None:
        if kabupaten == "-":
            await self._nowhere(turn)
            return
        if not kabupaten:
            self.prompt(turn, then=turn.data.get("then", "menu"))
            return
        if turn.state != "village":
            turn.go("village", then="menu", stage="name")
        if turn.data.get("stage") == "name_kab":
            # The name was typed first: the kabupaten completes it.
            turn.data.update(kabupaten=kabupaten, kecamatan=kecamatan)
            self._ask_kecamatan_or_finish(turn)
            if turn.data["stage"] == "ready":
                await self._finish_unlisted(turn)
            return
        villages = [v for v in self.kit.settings.villages if v.kabupaten == kabupaten
                    and (not kecamatan or v.kecamatan == kecamatan)]
        turn.data.update(stage="other_name", kabupaten=kabupaten, kecamatan=kecamatan)
        if not villages:
            self._ask_name(turn)
            return
        options = tuple(Option(v.name, f"village:{v.id}") for v in villages)
        turn.say(self.kit.msg("village_pick"), options + (Option(self.kit.msg("village_other"), "village:other"),))

    def _ask_name(self, turn: Turn) -> None:
        """The village's name, within the kabupaten (and kecamatan) already known."""
        kit = self.kit
        turn.data["stage"] = "other_name"
        kecamatan, kabupaten = turn.data.get("kecamatan") or "", turn.data.get("kabupaten") or ""
        area = kit.msg("village_area_kec", kecamatan=kecamatan, kabupaten=kabupaten) if kecamatan \
            else kit.msg("village_area_kab", kabupaten=kabupaten)
        turn.say(kit.msg("village_name_in", wilayah=area), (
            Option(kit.msg("village_no_name"), "village:noname"), kit.menu_option()))

    async def _is_a_place(self, turn: Turn, text: str) -> bool:
        """False (and answered) when the message is a question or a story, not a place's name.

        A question goes to the FAQ; a story typed while a report waits for the village joins
        that report; "gak tau" asks for the kabupaten only.
        """
        kit = self.kit
        words = clean(text).split()
        if kit.words.is_("tidak_tahu", text) or kit.words.is_("skip", text):
            if turn.data.get("stage") == "kecamatan":
                return True
            if turn.data.get("stage") == "name_kab":
                await self._nowhere(turn)   # neither the village nor the kabupaten: still an office
                return False
            turn.data["name"] = ""
            if turn.data.get("kabupaten"):
                await self._named(turn, "", turn.data["kabupaten"], turn.data.get("kecamatan", ""))
            else:
                turn.data["stage"] = "name_kab"
                turn.say(kit.msg("village_name_unknown"), self._areas(dont_know=True))
            return False
        if kit.flows.menu.looks_like_question(text) and find_village(kit.settings, text) is None:
            keep = turn.data.get("keep")
            if isinstance(keep, dict) and (keep.get("story") or keep.get("answers")):
                turn.go("menu", draft=kit.flows.intake.pause(turn))   # the report waits as a draft
            else:
                turn.go("menu")   # the village can wait; the question is answered
            await kit.flows.menu.ask(turn)
            return False
        if len(words) <= 4 and len(text) <= _MAX_NAME:
            return True
        keep = turn.data.get("keep")
        if isinstance(keep, dict) and isinstance(keep.get("story"), list):
            keep["story"].append(text)   # nothing the villager tells is lost
            turn.say(kit.msg("village_story_kept"))
        turn.say(kit.msg("village_type_name"), self._areas())
        return False

    def _needs_kecamatan(self, kabupaten: str) -> bool:
        """Only where an office serves part of a kabupaten does the kecamatan change the office."""
        area = self._area(kabupaten)
        if area is None:
            return False
        kecamatan = {k for o in self.kit.settings.offices for k in o.kecamatan}
        return bool(kecamatan & set(area.kecamatan))

    def _ask_kecamatan_or_finish(self, turn: Turn) -> None:
        kabupaten = turn.data["kabupaten"]
        if turn.data.get("kecamatan") or not self._needs_kecamatan(kabupaten):
            turn.data["stage"] = "ready"
            return
        area = self._area(kabupaten)
        turn.data["stage"] = "kecamatan"
        options = tuple(Option(k, f"kec:{k}") for k in (area.kecamatan if area else ()))
        turn.say(self.kit.msg("village_kecamatan", kabupaten=kabupaten),
                 options + (Option(self.kit.msg("village_kecamatan_skip"), "kec:skip"),))

    async def _kecamatan(self, turn: Turn, typed: str) -> None:
        if typed and not (self.kit.words.is_("tidak_tahu", typed) or self.kit.words.is_("skip", typed)):
            found = find_area(self.kit.settings, typed)
            turn.data["kecamatan"] = found[1] if found and found[1] else clean(typed).title()
        await self._finish_unlisted(turn)

    async def _named(self, turn: Turn, name: str, kabupaten: str, kecamatan: str) -> None:
        village = find_village(self.kit.settings, name)
        if village is not None and (not kabupaten or village.kabupaten == kabupaten):
            await self.chosen(turn, village.id)
            return
        turn.data.update(name=name.strip(), kabupaten=kabupaten, kecamatan=kecamatan)
        if not kabupaten:
            turn.data["stage"] = "name_kab"
            turn.say(self.kit.msg("village_not_listed", text=name.strip()), self._areas())
            return
        self._ask_kecamatan_or_finish(turn)
        if turn.data["stage"] == "ready":
            await self._finish_unlisted(turn)

    async def _nowhere(self, turn: Turn) -> None:
        """No kabupaten known: the regional office, which sees every office's cases, takes it."""
        settings = self.kit.settings
        office = settings.regional_office or settings.offices[0]
        name = str(turn.data.get("name") or "")
        await self._done(turn, Place(typed_name(name) if name else "", "", "", office.id))

    async def _finish_unlisted(self, turn: Turn) -> None:
        data = turn.data
        office = office_for(self.kit.settings, data["kabupaten"], data.get("kecamatan", ""))
        if office is None:
            office = self.kit.settings.offices[0]
        place = Place(typed_name(data["name"])[:_MAX_NAME] if data["name"] else "",
                      data.get("kecamatan", ""), data["kabupaten"], office.id)
        await self._done(turn, place)

    async def chosen(self, turn: Turn, village_id: str) -> None:
        village = self.kit.routing.village(village_id)
        if village is None:
            self.prompt(turn, then=turn.data.get("then", "menu"))
            return
        await self._done(turn, place_of(village))

    async def _done(self, turn: Turn, place: Place) -> None:
        kit = self.kit
        then = turn.data.get("then", "menu") if turn.state == "village" else "menu"
        keep = turn.data.get("keep") if turn.state == "village" else None
        turn.place = place
        values = kit.office_values(place)
        key = "village_saved" if place.listed else "village_saved_unlisted" if place.name and place.kabupaten \
            else "village_saved_kab" if place.kabupaten else "village_saved_nowhere"
        turn.say(kit.msg(key, desa_nama=place.name, kabupaten=place.kabupaten,
                         kantor_nama=values.get("kantor_nama")))
        if then == "report":
            turn.go("menu")
            kept = keep if isinstance(keep, dict) else {}
            # Changed in the middle of the story: the story goes on without the introduction again.
            await kit.flows.intake.resume(turn, kept, intro=not kept.pop("moved", False))
        elif then.startswith("faq:") and then[4:] in kit.content.by_id:
            kit.flows.menu.answer(turn, kit.content.entry(then[4:]))
        elif then == "person":
            kit.flows.menu.person(turn)
        else:
            kit.flows.menu.show(turn)
