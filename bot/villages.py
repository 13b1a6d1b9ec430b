"""Where a villager lives: a Desa Imigrasi village or a place typed by hand, and its office."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rapidfuzz import fuzz, process

from bot.config import Area, Office, Settings, Village, known
from bot.textnorm import fold

_PREFIXES = ("desa ", "ds ", "dsa ", "kampung ", "kampong ", "dusun ", "kelurahan ", "kel ")
# Short forms villagers type for the first word of a place name.
_SHORT = {"sei": "sungai", "sg": "sungai", "sungei": "sungai", "tj": "tanjung", "tg": "tanjung",
          "kab": "", "kabupaten": "", "kec": "", "kecamatan": "", "kota": "kota", "nga": "nanga"}


@dataclass(frozen=True)
class Place:
    """The village a villager gave. `village_id` is set for a Desa Imigrasi village."""

    name: str
    kecamatan: str
    kabupaten: str
    office_id: str
    village_id: str | None = None

    @property
    def listed(self) -> bool:
        return self.village_id is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Place | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{k: data[k] for k in ("name", "kecamatan", "kabupaten", "office_id")},
                       village_id=data.get("village_id"))
        except (KeyError, TypeError):
            return None


def place_of(village: Village) -> Place:
    return Place(village.name, village.kecamatan, village.kabupaten, village.office_id, village.id)


# "sy di sajingan", "kamek dari sajingan besar": the words before the place's name.
_LEADING = frozenset({"sy", "saya", "aku", "ak", "kami", "kamek", "kamik", "tinggal", "asal", "dari", "dr",
                      "dri", "di", "dlm", "ya", "pak", "bu"})


def clean(typed: str) -> str:
    """A typed place name folded, with "desa"/"kec" dropped and "sei" read as "sungai"."""
    words = fold(typed).split()
    while words and (f"{words[0]} " in _PREFIXES or words[0] in _LEADING):
        words = words[1:]
    out = [_SHORT.get(w, w) for w in words]
    return " ".join(w for w in out if w)


def typed_name(typed: str) -> str:
    """A village's name as a villager typed it, for the record: "sy di kampung baru" -> "Kampung Baru"."""
    words = fold(typed).split()
    while words and (words[0] in _LEADING or words[0] in ("desa", "ds", "dsa")):
        words = words[1:]
    return " ".join(words).title()


def find_village(settings: Settings, typed: str, cutoff: float = 80.0) -> Village | None:
    """The village a villager typed, tolerant of case, the word "desa", short forms and small typos."""
    text = clean(typed)
    if not text:
        return None
    names = {v.id: clean(v.name) for v in settings.villages}
    hit = process.extractOne(text, names, scorer=fuzz.ratio, score_cutoff=cutoff)
    if hit is None:
        return None
    return settings.village(str(hit[2]))


def find_area(settings: Settings, typed: str, cutoff: float = 85.0) -> tuple[Area, str] | None:
    """The kabupaten, and the kecamatan when that is what was typed ("" otherwise)."""
    text = clean(typed)
    if not text:
        return None
    kabupaten = {a.kabupaten: clean(a.kabupaten) for a in settings.areas}
    hit = process.extractOne(text, kabupaten, scorer=fuzz.ratio, score_cutoff=cutoff)
    if hit is not None:
        return next(a for a in settings.areas if a.kabupaten == hit[2]), ""
    pairs = [(a, k) for a in settings.areas for k in a.kecamatan]
    found = process.extractOne(text, [clean(k) for _, k in pairs], scorer=fuzz.ratio, score_cutoff=cutoff)
    if found is not None:
        return pairs[int(found[2])]
    return None


def office_for(settings: Settings, kabupaten: str, kecamatan: str) -> Office | None:
    """The office whose working area covers the place: by kecamatan first, then kabupaten."""
    if kecamatan:
        for office in settings.offices:
            if any(fold(k) == fold(kecamatan) for k in office.kecamatan):
                return office
    for office in settings.offices:
        if kabupaten in office.kabupaten:
            return office
    return settings.regional_office


def village_values(settings: Settings, place: Place) -> dict[str, str]:
    """The placeholders an FAQ answer may use, filled for this place.

    A value nobody has confirmed (empty or `GANTI:`) is left out, so the line that needs it is
    left out of the answer too: a villager never reads a placeholder.
    """
    office = settings.office(place.office_id)
    officers: tuple[str, ...] = ()
    if place.village_id is not None:
        try:
            officers = settings.village(place.village_id).officer_names
        except KeyError:
            officers = ()
    values = {
        "desa_nama": place.name,
        "kantor_nama": office.name,
        "kantor_alamat": office.address,
        "kantor_telepon": office.phone,
        "kantor_jam": office.hours,
        "petugas_nama": ", ".join(n for n in officers if known(n)),
    }
    return {k: v for k, v in values.items() if known(v)}
