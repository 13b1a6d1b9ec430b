"""Settings: config.yaml (offices, villages, behaviour) plus secrets from the environment.

Loaded once into frozen objects. Every problem is collected with its key path and raised as
one ConfigError, so an operator fixes the file in one pass instead of one traceback at a time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.errors import ConfigError
from bot.faq import MatchSettings

OFFICE_KINDS = ("kanim", "rudenim", "kanwil")
ROLES = ("officer", "head", "regional", "editor")   # what an officer may do in the console
PLACEHOLDER_MARK = "GANTI"   # a value nobody has confirmed yet: never shown to anyone
_CODE = re.compile(r"^[A-Z]{2,5}$")
_VILLAGE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Officer:
    name: str
    telegram_id: int | None
    whatsapp: str | None
    can_broadcast: bool = False
    public_contact: str | None = None   # a number the officer agreed to give villagers
    key: str = ""                       # the console's name for the officer: config `id`, else OFFICE-n
    role: str = "officer"               # officer, head, regional or editor (console rights)
    telegram_username: str | None = None   # lets the officer type @name at the console login


@dataclass(frozen=True)
class Office:
    id: str                 # also the case-number prefix, e.g. SGU in SGU-2026-0042
    name: str
    kind: str
    address: str
    phone: str
    officers: tuple[Officer, ...]
    telegram_chat_ids: tuple[int, ...]
    whatsapp_numbers: tuple[str, ...]
    # The working area: reports from a village not in the list go to the office whose kecamatan,
    # else whose kabupaten, covers it; with none, to the regional office.
    kabupaten: tuple[str, ...] = ()
    kecamatan: tuple[str, ...] = ()
    hours: str = ""          # opening hours as the office states them


@dataclass(frozen=True)
class Area:
    """A kabupaten or kota of the province and the kecamatan we know in it."""

    kabupaten: str
    kecamatan: tuple[str, ...]


def known(value: str | None) -> str | None:
    """The value, or None when it is empty or still a `GANTI:` placeholder."""
    if not value or value.strip().upper().startswith(PLACEHOLDER_MARK):
        return None
    return value


@dataclass(frozen=True)
class Village:
    id: str
    name: str
    kecamatan: str
    kabupaten: str
    office_id: str
    officer_names: tuple[str, ...]


@dataclass(frozen=True)
class Secrets:
    telegram_token: str | None = None
    telegram_webhook_secret: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_whatsapp_from: str | None = None
    public_base_url: str | None = None
    port: int = 8080
    telegram_api_base_url: str | None = None   # a self-hosted or fake Bot API server
    twilio_api_base_url: str | None = None     # a fake Twilio REST API, for tests and checks
    metrics_token: str | None = None           # bearer token of /metrics; none: no /metrics at all


@dataclass(frozen=True)
class WhatsAppSettings:
    # Approved templates (Content SIDs) for messages sent outside the 24-hour window.
    alert_template_sid: str | None = None
    status_template_sid: str | None = None
    # Only for local development without Twilio: never turn off in production.
    verify_signature: bool = True
    # Template for announcements (broadcasts) outside the window: {"1": office, "2": text}.
    broadcast_template_sid: str | None = None


RISKS = ("tinggi", "sedang", "rendah")
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_CLOCK = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Span:
    """A length of time as the config writes it: "30m", "4h", "1d" (a day: a working day in working time)."""

    amount: float
    unit: str            # m, h or d

    @classmethod
    def parse(cls, text: object) -> Span | None:
        m = _SPAN.match(str(text)) if isinstance(text, str | int | float) and not isinstance(text, bool) else None
        return cls(float(m.group(1)), m.group(2)) if m else None

    def length(self, day: dt.timedelta) -> dt.timedelta:
        """As a duration, `day` long per day (the working day's length, or 24 hours)."""
        if self.unit == "d":
            return self.amount * day
        return dt.timedelta(minutes=self.amount) if self.unit == "m" else dt.timedelta(hours=self.amount)

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


def _spans(**values: str) -> dict[str, Span]:
    return {k: Span.parse(v) or Span(0, "h") for k, v in values.items()}


@dataclass(frozen=True)
class DeadlineSettings:
    """Deadlines per risk level in working time, escalation after them, quiet hours and the morning digest."""

    time_zone: str = "Asia/Pontianak"
    day_start: dt.time = dt.time(7, 30)
    day_end: dt.time = dt.time(16, 0)
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)          # Monday = 0
    acknowledge: Mapping[str, Span] = field(default_factory=lambda: _spans(tinggi="4h", sedang="1d", rendah="3d"))
    close: Span = field(default_factory=lambda: Span(14, "d"))
    # These levels count calendar time (nights, weekends, holidays) and are sent in quiet hours too.
    round_the_clock: tuple[str, ...] = ("tinggi",)
    # After a missed deadline: this long later the head of office, then the Kantor Wilayah.
    head_after: Mapping[str, Span] = field(default_factory=lambda: _spans(tinggi="2h", sedang="1d", rendah="2d"))
    regional_after: Mapping[str, Span] = field(
        default_factory=lambda: _spans(tinggi="4h", sedang="2d", rendah="4d"))
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(6, 0)
    digest: bool = True
    digest_at: dt.time = dt.time(7, 30)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Settings:
    offices: tuple[Office, ...]
    regional_office: Office | None
    villages: tuple[Village, ...]
    content_dir: Path
    database: Path                       # the SQLite file (storage.database, or storage.url sqlite:///…)
    match: MatchSettings = field(default_factory=MatchSettings)
    secrets: Secrets = field(default_factory=Secrets)
    deadlines: DeadlineSettings = field(default_factory=DeadlineSettings)
    retention_days: int = 365
    rate_limit_messages: int = 60        # per sender per minute, sustained; more gets one polite reply
    rate_limit_burst: int = 20           # messages a sender may send at once before the limit
    max_body_bytes: int = 256 * 1024     # webhook requests larger than this get 413
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    areas: tuple[Area, ...] = ()
    draft_days: int = 7                  # a half-finished report is offered again for this long
    console: bool = True                 # the office console under /console
    database_url: str | None = None      # postgresql://… (storage.url or DATABASE_URL): instead of the file

    @property
    def storage(self) -> str:
        """What Store.open takes: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or str(self.database)

    @property
    def all_offices(self) -> tuple[Office, ...]:
        """The offices and the regional office (when there is one)."""
        return (*self.offices, *([self.regional_office] if self.regional_office else []))

    def officers(self) -> list[tuple[Office, Officer]]:
        """Every officer with their office, the regional office's included."""
        return [(office, officer) for office in self.all_offices for officer in office.officers]

    def office(self, office_id: str) -> Office:
        for o in self.all_offices:
            if o.id == office_id:
                return o
        raise KeyError(office_id)

    def village(self, village_id: str) -> Village:
        for v in self.villages:
            if v.id == village_id:
                return v
        raise KeyError(village_id)


class _Reader:
    """Reads typed values out of parsed YAML, recording problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problems.append(f"{path}: must be a mapping")
            return {}
        return value

    def seq(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(f"{path}: must be a list")
            return []
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(f"{path}.{key}: missing")
            return ""
        if not isinstance(value, str | int):
            self.problems.append(f"{path}.{key}: must be text")
            return ""
        return str(value).strip()

    def number(self, data: Mapping[str, Any], key: str, path: str, default: float,
               low: float, high: float) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.problems.append(f"{path}.{key}: must be a number from {low} to {high}")
            return default
        return float(value)


def load_settings(path: Path, environ: Mapping[str, str]) -> Settings:
    """Read `path` and the environment; raise ConfigError listing every problem by key path."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found (copy config.example.yaml)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.__class__.__name__})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError([f"{path}: not valid YAML{where}"]) from None
    r = _Reader()
    root = r.mapping(raw, "config")
    base = path.parent

    offices = tuple(_office(r, o, f"offices[{i}]") for i, o in enumerate(r.seq(root.get("offices"), "offices")))
    if not offices and "offices" not in root:
        r.problems.append("offices: missing (at least one office)")
    regional = None
    if root.get("regional_office") is not None:
        regional = _office(r, root["regional_office"], "regional_office")
    _unique(r, [o.id for o in offices] + ([regional.id] if regional else []), "offices", "id")

    areas = []
    for i, a in enumerate(r.seq(root.get("areas"), "areas")):
        ap = f"areas[{i}]"
        am = r.mapping(a, ap)
        areas.append(Area(r.text(am, "kabupaten", ap),
                          tuple(str(k) for k in r.seq(am.get("kecamatan"), f"{ap}.kecamatan"))))
    _unique(r, [a.kabupaten for a in areas], "areas", "kabupaten")
    area_names = {a.kabupaten for a in areas}
    for i, office in enumerate(offices):
        for j, kab in enumerate(office.kabupaten):
            if area_names and kab not in area_names:
                r.problems.append(f"offices[{i}].kabupaten[{j}]: '{kab}' is not a kabupaten in areas")

    office_ids = {o.id for o in offices}
    villages = []
    for i, v in enumerate(r.seq(root.get("villages"), "villages")):
        vp = f"villages[{i}]"
        vm = r.mapping(v, vp)
        vid = r.text(vm, "id", vp)
        if vid and not _VILLAGE_ID.match(vid):
            r.problems.append(f"{vp}.id: use lowercase letters, digits and '-' (e.g. nanga-mahap)")
        office_id = r.text(vm, "office", vp)
        if office_id and office_id not in office_ids:
            r.problems.append(f"{vp}.office: '{office_id}' is not the id of an office in offices")
        names = tuple(str(n) for n in r.seq(vm.get("officers"), f"{vp}.officers"))
        villages.append(Village(id=vid, name=r.text(vm, "name", vp), kecamatan=r.text(vm, "kecamatan", vp),
                                kabupaten=r.text(vm, "kabupaten", vp), office_id=office_id,
                                officer_names=names))
    for i, v in enumerate(villages):
        if area_names and v.kabupaten and v.kabupaten not in area_names:
            r.problems.append(f"villages[{i}].kabupaten: '{v.kabupaten}' is not a kabupaten in areas")
    if not villages:
        r.problems.append("villages: missing (at least one village)")
    _unique(r, [v.id for v in villages], "villages", "id")

    m = r.mapping(root.get("matcher"), "matcher")
    defaults = MatchSettings()
    match = MatchSettings(
        answer_score=r.number(m, "answer_score", "matcher", defaults.answer_score, 0, 1),
        answer_margin=r.number(m, "answer_margin", "matcher", defaults.answer_margin, 0, 1),
        suggest_score=r.number(m, "suggest_score", "matcher", defaults.suggest_score, 0, 1),
        answer_floor=r.number(m, "answer_floor", "matcher", defaults.answer_floor, 0, 1),
        answer_ratio=r.number(m, "answer_ratio", "matcher", defaults.answer_ratio, 0, 1),
        suggest_window=defaults.suggest_window,
        max_suggestions=defaults.max_suggestions,
        fuzzy_cutoff=defaults.fuzzy_cutoff,
        doc_weight=defaults.doc_weight,
        coverage_power=defaults.coverage_power,
        cache_size=int(r.number(m, "cache_size", "matcher", defaults.cache_size, 0, 20_000)),
    )
    if match.suggest_score > min(match.answer_score, match.answer_floor):
        r.problems.append("matcher.suggest_score: must not be above answer_score or answer_floor")

    storage = r.mapping(root.get("storage"), "storage")
    database = base / (r.text(storage, "database", "storage", required=False) or "data/desa-imigrasi.sqlite3")
    # storage.url (or DATABASE_URL, which wins: a deployment sets it) names either engine.
    url = environ.get("DATABASE_URL") or r.text(storage, "url", "storage", required=False) or None
    database_url = None
    if url is not None:
        if url.startswith("sqlite:///"):
            database = base / url[len("sqlite:///"):]
        elif url.startswith(("postgresql://", "postgres://")):
            database_url = url
        else:
            r.problems.append("storage.url: must start with sqlite:/// or postgresql://")
    content_dir = base / (r.text(root, "content_dir", "config", required=False) or "content")

    secrets = _secrets(r, r.mapping(root.get("secrets"), "secrets"), environ)
    cases = r.mapping(root.get("cases"), "cases")
    deadlines = _deadlines(r, r.mapping(root.get("deadlines"), "deadlines"))
    privacy = r.mapping(root.get("privacy"), "privacy")
    retention = int(r.number(privacy, "retention_days", "privacy", 365, 1, 36500))
    limits = r.mapping(root.get("limits"), "limits")
    rate = int(r.number(limits, "messages_per_minute", "limits", 60, 1, 10_000))
    burst = int(r.number(limits, "burst", "limits", 20, 1, 10_000))
    max_body = int(r.number(limits, "max_body_bytes", "limits", 256 * 1024, 1024, 64 * 1024 * 1024))
    draft_days = int(r.number(cases, "keep_unfinished_days", "cases", 7, 0, 365))
    wa = r.mapping(root.get("whatsapp"), "whatsapp")
    verify = wa.get("verify_signature", True)
    if not isinstance(verify, bool):
        r.problems.append("whatsapp.verify_signature: must be true or false")
        verify = True
    whatsapp = WhatsAppSettings(
        alert_template_sid=r.text(wa, "alert_template_sid", "whatsapp", required=False) or None,
        status_template_sid=r.text(wa, "status_template_sid", "whatsapp", required=False) or None,
        broadcast_template_sid=r.text(wa, "broadcast_template_sid", "whatsapp", required=False) or None,
        verify_signature=verify)
    desk = r.mapping(root.get("console"), "console")
    console_on = desk.get("enabled", True)
    if not isinstance(console_on, bool):
        r.problems.append("console.enabled: must be true or false")
        console_on = True
    all_officers = [o for office in (*offices, *([regional] if regional else [])) for o in office.officers]
    _unique(r, [o.key for o in all_officers], "officers", "id")
    if offices and not all_officers and not any(
            o.telegram_chat_ids or o.whatsapp_numbers for o in (*offices, *([regional] if regional else []))):
        # Offices without recipients pass their alerts on (bot/routing.py); with none at all, a
        # villager would be told a report was sent that nobody receives.
        r.problems.append("offices, regional_office: no office has an officer or an alert chat "
                          "(alerts.telegram_chat_ids, alerts.whatsapp_numbers): reports would reach nobody")
    if r.problems:
        raise ConfigError(r.problems)
    return Settings(console=console_on, offices=offices, regional_office=regional, villages=tuple(villages),
                    content_dir=content_dir, database=database, match=match, secrets=secrets,
                    deadlines=deadlines, retention_days=retention, rate_limit_messages=rate,
                    rate_limit_burst=burst,
                    max_body_bytes=max_body, whatsapp=whatsapp, areas=tuple(areas),
                    draft_days=draft_days, database_url=database_url)


def _clock(r: _Reader, data: Mapping[str, Any], key: str, path: str, default: dt.time) -> dt.time:
    value = data.get(key)
    if value is None:
        return default
    m = _CLOCK.match(str(value)) if isinstance(value, str) else None
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        r.problems.append(f"{path}.{key}: must be a time of day like \"07:30\"")
        return default
    return dt.time(int(m.group(1)), int(m.group(2)))


def _span(r: _Reader, value: Any, path: str, default: Span) -> Span:
    if value is None:
        return default
    span = Span.parse(value)
    if span is None or span.amount <= 0:
        r.problems.append(f"{path}: must be a length like \"30m\", \"4h\" or \"3d\" (d: a working day)")
        return default
    return span


def _per_risk(r: _Reader, data: Mapping[str, Any], key: str, path: str,
              defaults: Mapping[str, Span]) -> dict[str, Span]:
    given = r.mapping(data.get(key), f"{path}.{key}")
    for unknown in sorted(set(given) - set(RISKS)):
        r.problems.append(f"{path}.{key}.{unknown}: not a risk level ({', '.join(RISKS)})")
    return {risk: _span(r, given.get(risk), f"{path}.{key}.{risk}", defaults[risk]) for risk in RISKS}


def _deadlines(r: _Reader, d: Mapping[str, Any]) -> DeadlineSettings:
    path = "deadlines"
    base = DeadlineSettings()
    zone = r.text(d, "time_zone", path, required=False) or base.time_zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        r.problems.append(f"{path}.time_zone: '{zone}' is not a time zone (e.g. Asia/Pontianak)")
        zone = base.time_zone
    hours = r.mapping(d.get("working_hours"), f"{path}.working_hours")
    start = _clock(r, hours, "start", f"{path}.working_hours", base.day_start)
    end = _clock(r, hours, "end", f"{path}.working_hours", base.day_end)
    if end <= start:
        r.problems.append(f"{path}.working_hours: end must be after start")
        start, end = base.day_start, base.day_end
    days = []
    for i, name in enumerate(r.seq(d.get("working_days", list(_WEEKDAYS[:5])), f"{path}.working_days")):
        if str(name).lower()[:3] not in _WEEKDAYS:
            r.problems.append(f"{path}.working_days[{i}]: must be a weekday (mon, tue, ... sun)")
        else:
            days.append(_WEEKDAYS.index(str(name).lower()[:3]))
    if not days:
        r.problems.append(f"{path}.working_days: at least one working day")
        days = list(base.working_days)
    round_the_clock = tuple(str(x) for x in r.seq(d.get("round_the_clock", list(base.round_the_clock)),
                                                  f"{path}.round_the_clock"))
    for i, risk in enumerate(round_the_clock):
        if risk not in RISKS:
            r.problems.append(f"{path}.round_the_clock[{i}]: not a risk level ({', '.join(RISKS)})")
    head = _per_risk(r, d, "head_after", path, base.head_after)
    regional = _per_risk(r, d, "regional_after", path, base.regional_after)
    day = dt.timedelta(hours=24)
    for risk in RISKS:
        if regional[risk].length(day) <= head[risk].length(day):
            r.problems.append(f"{path}.regional_after.{risk}: must be longer than head_after.{risk} "
                              "(the Kantor Wilayah hears after the head of office)")
    quiet = r.mapping(d.get("quiet_hours"), f"{path}.quiet_hours")
    digest = r.mapping(d.get("digest"), f"{path}.digest")
    enabled = digest.get("enabled", True)
    if not isinstance(enabled, bool):
        r.problems.append(f"{path}.digest.enabled: must be true or false")
        enabled = True
    settings = DeadlineSettings(
        time_zone=zone, day_start=start, day_end=end, working_days=tuple(sorted(set(days))),
        acknowledge=_per_risk(r, d, "acknowledge", path, base.acknowledge),
        close=_span(r, d.get("close"), f"{path}.close", base.close),
        round_the_clock=round_the_clock, head_after=head, regional_after=regional,
        quiet_start=_clock(r, quiet, "start", f"{path}.quiet_hours", base.quiet_start),
        quiet_end=_clock(r, quiet, "end", f"{path}.quiet_hours", base.quiet_end),
        digest=enabled, digest_at=_clock(r, digest, "at", f"{path}.digest", base.digest_at))
    if enabled and in_quiet_hours(settings, settings.digest_at):
        r.problems.append(f"{path}.digest.at: falls in the quiet hours, so the digest would never be sent")
    return settings


def in_quiet_hours(settings: DeadlineSettings, moment: dt.time) -> bool:
    """Whether a local time of day is in the quiet hours (which may run past midnight)."""
    start, end = settings.quiet_start, settings.quiet_end
    if start == end:
        return False
    return start <= moment < end if start < end else moment >= start or moment < end


def _office(r: _Reader, raw: Any, path: str) -> Office:
    om = r.mapping(raw, path)
    oid = r.text(om, "id", path)
    if oid and not _CODE.match(oid):
        r.problems.append(f"{path}.id: '{oid}' must be 2-5 capital letters (it starts case numbers)")
    kind = r.text(om, "kind", path)
    if kind and kind not in OFFICE_KINDS:
        r.problems.append(f"{path}.kind: must be one of {', '.join(OFFICE_KINDS)}")
    officers = []
    for j, raw_officer in enumerate(r.seq(om.get("officers"), f"{path}.officers")):
        op = f"{path}.officers[{j}]"
        of = r.mapping(raw_officer, op)
        tg = of.get("telegram_id")
        if tg is not None and (isinstance(tg, bool) or not isinstance(tg, int)):
            r.problems.append(f"{op}.telegram_id: must be a number (the officer's Telegram user id)")
            tg = None
        wa = r.text(of, "whatsapp", op, required=False) or None
        if wa and not re.fullmatch(r"\+\d{8,15}", wa):
            r.problems.append(f"{op}.whatsapp: must be a number like +628123456789")
        can_broadcast = of.get("can_broadcast", False)
        if not isinstance(can_broadcast, bool):
            r.problems.append(f"{op}.can_broadcast: must be true or false")
            can_broadcast = False
        role = r.text(of, "role", op, required=False) or ("regional" if kind == "kanwil" else "officer")
        if role not in ROLES:
            r.problems.append(f"{op}.role: must be one of {', '.join(ROLES)}")
            role = "officer"
        username = (r.text(of, "telegram_username", op, required=False) or "").lstrip("@") or None
        officers.append(Officer(name=r.text(of, "name", op), telegram_id=tg, whatsapp=wa,
                                can_broadcast=can_broadcast,
                                public_contact=known(r.text(of, "public_contact", op, required=False)),
                                key=r.text(of, "id", op, required=False) or f"{oid}-{j + 1}",
                                role=role, telegram_username=username))
    alerts = r.mapping(om.get("alerts"), f"{path}.alerts")
    chats = []
    for j, c in enumerate(r.seq(alerts.get("telegram_chat_ids"), f"{path}.alerts.telegram_chat_ids")):
        if isinstance(c, bool) or not isinstance(c, int):
            r.problems.append(f"{path}.alerts.telegram_chat_ids[{j}]: must be a number (e.g. -1001234567890)")
        else:
            chats.append(c)
    numbers = []
    for j, n in enumerate(r.seq(alerts.get("whatsapp_numbers"), f"{path}.alerts.whatsapp_numbers")):
        if not isinstance(n, str) or not re.fullmatch(r"\+\d{8,15}", n):
            r.problems.append(f"{path}.alerts.whatsapp_numbers[{j}]: must be a number like +628123456789")
        else:
            numbers.append(n)
    return Office(id=oid, name=r.text(om, "name", path), kind=kind,
                  address=r.text(om, "address", path), phone=r.text(om, "phone", path),
                  officers=tuple(officers), telegram_chat_ids=tuple(chats),
                  whatsapp_numbers=tuple(numbers),
                  kabupaten=tuple(str(k) for k in r.seq(om.get("kabupaten"), f"{path}.kabupaten")),
                  kecamatan=tuple(str(k) for k in r.seq(om.get("kecamatan"), f"{path}.kecamatan")),
                  hours=r.text(om, "hours", path, required=False))


def _unique(r: _Reader, ids: list[str], path: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value and value in seen:
            r.problems.append(f"{path}[{i}].{key}: '{value}' is used twice")
        seen.add(value)


_SECRET_ENV = {
    "telegram_token": "TELEGRAM_BOT_TOKEN",
    "telegram_webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_whatsapp_from": "TWILIO_WHATSAPP_FROM",
    "public_base_url": "PUBLIC_BASE_URL",
    "metrics_token": "METRICS_TOKEN",
}


def _secrets(r: _Reader, names: Mapping[str, Any], environ: Mapping[str, str]) -> Secrets:
    """Secrets never live in the file: it may only rename the environment variables."""
    values: dict[str, str | None] = {}
    for key, default_env in _SECRET_ENV.items():
        env_name = names.get(f"{key}_env", default_env)
        if not isinstance(env_name, str):
            r.problems.append(f"secrets.{key}_env: must be the name of an environment variable")
            env_name = default_env
        values[key] = environ.get(env_name) or None
    unknown = set(names) - {f"{k}_env" for k in _SECRET_ENV}
    for key in sorted(unknown):
        r.problems.append(f"secrets.{key}: unknown key (secrets are environment variables; "
                          "only *_env names belong here)")
    port_text = environ.get("PORT", "8080")
    try:
        port = int(port_text)
    except ValueError:
        r.problems.append(f"PORT: '{port_text}' is not a port number")
        port = 8080
    return Secrets(port=port, telegram_api_base_url=environ.get("TELEGRAM_API_BASE_URL") or None,
                   twilio_api_base_url=environ.get("TWILIO_API_BASE_URL") or None, **values)
