"""Villages and the office behind each: lookup by typed name and the values answers fill in."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.config import Settings, Village, known
from bot.textnorm import fold

_PREFIXES = ("desa ", "ds ", "dsa ", "kampung ", "dusun ")


def village_values(settings: Settings, village: Village) -> dict[str, str]:
    """The placeholders an FAQ answer may use, filled for this village.

    A value nobody has confirmed (empty or `GANTI:`) is left out, so the line that needs it is
    left out of the answer too: a villager never reads a placeholder.
    """
    office = settings.office(village.office_id)
    values = {
        "desa_nama": village.name,
        "kantor_nama": office.name,
        "kantor_alamat": office.address,
        "kantor_telepon": office.phone,
        "kantor_jam": office.hours,
        "petugas_nama": ", ".join(n for n in village.officer_names if known(n)),
    }
    return {k: v for k, v in values.items() if known(v)}


def find_village(settings: Settings, typed: str, cutoff: float = 80.0) -> Village | None:
    """The village a villager typed, tolerant of case, the word "desa" and small typos."""
    text = fold(typed)
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    if not text:
        return None
    names = {v.id: fold(v.name) for v in settings.villages}
    hit = process.extractOne(text, names, scorer=fuzz.ratio, score_cutoff=cutoff)
    if hit is None:
        return None
    return settings.village(str(hit[2]))
