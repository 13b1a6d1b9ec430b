"""The console's pages on aiohttp: middlewares (headers, session, CSRF) and thin handlers.

Handlers never reach the database: they ask CaseDesk, Auth and the figures with the request's
Scope, so no page can forget which offices it may show.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot import drafts
from bot.content import ConsoleText
from bot.models import stored_media
from bot.stats import export_reports_csv
from bot.store import CaseFilter, DeskSession, Store

from . import figures, regional
from .auth import Auth, network_of
from .cases import VERBS, CaseDesk, parse_search
from .media import MediaFetcher
from .scope import Directory, Scope

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SESSION_COOKIE = "desk_session"
ATTEMPT_COOKIE = "desk_attempt"
PRE_COOKIE = "desk_pre"
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
PUBLIC = {"login", "login_post", "code", "code_post", "link", "link_post", "static"}
STATUSES = ("baru", "ditangani", "ditutup")
TABS = ("baru", "ditangani", "lewat", "ditutup")    # lewat: open cases past their deadline
PER_PAGE = 25


@dataclass(frozen=True)
class Desk:
    store: Store
    auth: Auth
    cases: CaseDesk
    directory: Directory
    text: ConsoleText
    secure: bool                       # cookies Secure (PUBLIC_BASE_URL is https)
    media: Sequence[MediaFetcher]
    clock: Callable[[], dt.datetime]
    content_dir: Path


DESK = web.AppKey("desk", Desk)
STATIC_HASHES = web.AppKey("static_hashes", dict)
SESSION = web.RequestKey("session", DeskSession)
SCOPE = web.RequestKey("scope", Scope)


def scope_of(request: web.Request) -> Scope:
    return request[SCOPE]


def _net(request: web.Request) -> str:
    return network_of(request.remote)


# Middlewares ---------------------------------------------------------------------------------
@web.middleware
async def headers_mw(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """Every answer: a strict CSP and no framing; pages are never cached; errors as pages."""
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = await _error(request, 404)
    except web.HTTPForbidden:
        response = await _error(request, 403)
    except web.HTTPBadGateway:
        response = await _error(request, 502)
    except web.HTTPException as exc:   # redirects raised below: answered as plain responses
        response = web.Response(status=exc.status, headers=exc.headers, text=exc.text)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.match_info.route.name == "static":
        response.headers["Cache-Control"] = "public, max-age=86400"
    else:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "HX-Request, Cookie"
    return response


async def _error(request: web.Request, status: int) -> web.Response:
    desk = request.app[DESK]
    response = aiohttp_jinja2.render_template("error.html", request, {
        "t": desk.text.labels, "scope": request.get(SCOPE), "csrf": "", "flash": None,
        "static": _static_url(request), "status": status, "path": request.path,
        "message": desk.text(f"error_{status}")})
    response.set_status(status)
    return response


@web.middleware
async def session_mw(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """Pages other than the login need a live session; its scope is built here, once."""
    if request.match_info.route.name in PUBLIC:
        return await handler(request)
    desk = request.app[DESK]
    session = await desk.auth.session(request.cookies.get(SESSION_COOKIE, ""))
    scope = desk.directory.scope(session.officer_key) if session else None
    if session is None or scope is None:
        login = str(request.app.router["login"].url_for())
        if request.headers.get("HX-Request"):
            return web.Response(status=200, headers={"HX-Redirect": login})
        if request.method == "POST":
            raise web.HTTPForbidden()
        raise web.HTTPSeeOther(login)
    request[SESSION] = session
    request[SCOPE] = scope
    return await handler(request)


@web.middleware
async def csrf_mw(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                  ) -> web.StreamResponse:
    """Every POST carries the session's token (form `_csrf` or X-CSRF-Token); before login, the cookie's."""
    if request.method == "POST":
        form = await request.post()
        sent = request.headers.get("X-CSRF-Token") or str(form.get("_csrf", ""))
        session: DeskSession | None = request.get(SESSION)
        expected = session.csrf if session else request.cookies.get(PRE_COOKIE, "")
        if not expected or not sent or not hmac.compare_digest(sent, expected):
            raise web.HTTPForbidden()
    return await handler(request)


# Helpers ---------------------------------------------------------------------------------------
def _static_url(request: web.Request) -> Callable[[str], str]:
    hashes: dict[str, str] = request.app[STATIC_HASHES]
    base = str(request.app.router["static"].url_for(filename="x"))[:-1]

    def url(name: str) -> str:
        return f"{base}{name}?v={hashes.get(name, '0')}"
    return url


async def render(request: web.Request, template: str, ctx: dict[str, Any], status: int = 200) -> web.Response:
    desk = request.app[DESK]
    session: DeskSession | None = request.get(SESSION)
    flash = None
    if session is not None and session.flash:
        flash = session.flash
        await desk.store.desk_session_flash(session.token_hash, None)
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    base = {"t": desk.text.labels, "scope": request.get(SCOPE), "flash": flash,
            "csrf": session.csrf if session else pre, "static": _static_url(request),
            "path": request.path}
    response = aiohttp_jinja2.render_template(template, request, {**base, **ctx})
    response.set_status(status)
    if session is None and not request.cookies.get(PRE_COOKIE):
        _cookie(request, response, PRE_COOKIE, pre, max_age=3600)
    return response


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
            max_age: int | None = None) -> None:
    desk = request.app[DESK]
    response.set_cookie(name, value, path="/console", httponly=True, samesite="Strict", secure=desk.secure,
                        max_age=max_age)


def _date(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text or ""), dt.time(), WIB)
    except ValueError:
        return None


def _url(request: web.Request, name: str, **parts: str) -> str:
    return str(request.app.router[name].url_for(**parts))


# Login -----------------------------------------------------------------------------------------
async def login(request: web.Request) -> web.Response:
    return await render(request, "login.html", {})


async def login_post(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    form = await request.post()
    token, allowed = await desk.auth.request_code(str(form.get("alamat", "")), _net(request))
    if not allowed:
        return await render(request, "login.html", {"error": desk.text("login_too_many")}, status=429)
    response = _see_other(_url(request, "code"))
    _cookie(request, response, ATTEMPT_COOKIE, token, max_age=600)
    return response


async def code(request: web.Request) -> web.Response:
    return await render(request, "code.html", {})


async def _logged_in(request: web.Request, session_token: str, officer_key: str) -> web.StreamResponse:
    desk = request.app[DESK]
    scope = desk.directory.scope(officer_key)
    assert scope is not None
    await desk.cases.record(scope, "masuk", _net(request))
    target = "inbox" if scope.cases else "questions"
    response = _see_other(_url(request, target))
    _cookie(request, response, SESSION_COOKIE, session_token)
    response.del_cookie(ATTEMPT_COOKIE, path="/console")
    return response


async def code_post(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    form = await request.post()
    result = await desk.auth.check_code(request.cookies.get(ATTEMPT_COOKIE, ""), str(form.get("kode", ""))[:12],
                                        _net(request))
    if result.session_token is None or result.officer_key is None:
        await desk.cases.record(None, "gagal_masuk", _net(request), officer_key=result.officer_key)
        return await render(request, "code.html", {"error": desk.text("login_wrong_code")}, status=400)
    return await _logged_in(request, result.session_token, result.officer_key)


async def link(request: web.Request) -> web.Response:
    return await render(request, "link.html", {"token": request.match_info["token"]})


async def link_post(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    result = await desk.auth.check_code(request.match_info["token"], "link", _net(request))
    if result.session_token is None or result.officer_key is None:
        await desk.cases.record(None, "gagal_masuk", _net(request), officer_key=result.officer_key)
        return await render(request, "link.html", {"error": desk.text("login_link_bad"), "token": ""}, status=400)
    return await _logged_in(request, result.session_token, result.officer_key)


async def logout(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    await desk.auth.logout(request[SESSION])
    await desk.cases.record(scope_of(request), "keluar", _net(request))
    response = _see_other(_url(request, "login"))
    response.del_cookie(SESSION_COOKIE, path="/console")
    return response


# Cases -----------------------------------------------------------------------------------------
async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(_url(request, "inbox" if scope_of(request).cases else "questions"))


def _sort(asked: str | None, tab: str) -> str:
    """Open cases come by deadline unless asked otherwise; closed ones newest first."""
    if asked in ("risiko", "batas"):
        return asked if asked == "risiko" or tab != "ditutup" else "umur"
    return "batas" if asked is None and tab != "ditutup" else "umur"


def _inbox_filter(request: web.Request, search: str | None) -> tuple[CaseFilter, dict[str, str]]:
    q = request.query
    tab = q.get("tab", "baru") if q.get("tab") in TABS else "baru"
    base = parse_search(search) if search and q.get("cari") == "1" else CaseFilter()
    try:
        page = max(1, min(10_000, int(q.get("hal", "1"))))
    except ValueError:
        page = 1
    f = replace(base, status=tab, village_id=q.get("desa") or None,
                risk=q.get("risiko") if q.get("risiko") in ("tinggi", "sedang", "rendah") else None,
                since=_date(q.get("dari")), until=_date(q.get("sampai")),
                sort=_sort(q.get("urut"), tab),
                oldest_first=q.get("urut") == "lama", page=page, per_page=PER_PAGE)
    if tab == "ditangani" and q.get("saya") == "1":
        f = replace(f, assigned_to=scope_of(request).officer_key)
    kept = {k: v for k, v in q.items() if k in ("tab", "saya", "desa", "risiko", "dari", "sampai", "urut", "cari")}
    return f, kept


async def inbox(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    scope = scope_of(request)
    if not scope.cases:
        raise web.HTTPNotFound()
    session: DeskSession = request[SESSION]
    f, kept = _inbox_filter(request, session.search)
    cases, total, counts = await desk.cases.inbox(scope, f)
    pages = max(1, -(-total // PER_PAGE))
    villages = [v for v in desk.cases.settings.villages if v.office_id in scope.offices]
    return await render(request, "inbox.html", {
        "cases": [(r, desk.cases.place(r), desk.cases.officer_label(r.assigned_to), desk.cases.deadline(r))
                  for r in cases],
        "tabs": TABS,
        "total": total, "counts": counts, "f": f, "kept": kept, "page": f.page, "pages": pages,
        "villages": villages, "search": session.search if kept.get("cari") == "1" else "",
        "offices": {o: desk.cases.settings.office(o).name for o in scope.offices}})


async def inbox_search(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    if not scope_of(request).cases:
        raise web.HTTPNotFound()
    form = await request.post()
    text = str(form.get("q", "")).strip()[:100]
    await desk.store.desk_session_search(request[SESSION].token_hash, text or None)
    tab = str(form.get("tab", "baru"))
    return _see_other(_url(request, "inbox") + f"?tab={tab if tab in TABS else 'baru'}"
                            + ("&cari=1" if text else ""))


async def case_page(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    scope = scope_of(request)
    report = await desk.cases.case(scope, request.match_info["case_no"])
    if report is None:
        raise web.HTTPNotFound()
    await desk.cases.record(scope, "lihat", _net(request), report.case_no)
    view = await desk.cases.view(scope, report)
    return await render(request, "case.html", {"v": view, "r": report, "outcomes": desk.text.outcomes})


async def case_action(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    scope = scope_of(request)
    verb = request.match_info["verb"]
    report = await desk.cases.case(scope, request.match_info["case_no"])
    if report is None or verb not in VERBS:
        raise web.HTTPNotFound()
    form = await request.post()
    text = str(form.get("teks", ""))[:2000]
    if verb == "tutup":
        outcome = str(form.get("hasil", ""))
        if outcome not in desk.text.outcomes:
            message = desk.text("flash_need_outcome")
        else:
            message = await desk.cases.act(scope, report, verb, f"{outcome}: {text}" if text.strip() else outcome,
                                           None, _net(request))
    else:
        message = await desk.cases.act(scope, report, verb, text, str(form.get("petugas", "")) or None,
                                       _net(request))
    await desk.store.desk_session_flash(request[SESSION].token_hash, message)
    return _see_other(_url(request, "case", case_no=report.case_no))


async def attachment(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    scope = scope_of(request)
    report = await desk.cases.case(scope, request.match_info["case_no"])
    try:
        number = int(request.match_info["n"])
    except ValueError:
        number = 0
    if report is None or not 1 <= number <= len(report.media):
        raise web.HTTPNotFound()
    _, ref = stored_media(report.media[number - 1])
    fetcher = next((m for m in desk.media if m.handles(ref)), None)
    if fetcher is None:
        raise web.HTTPNotFound()
    try:
        body, kind = await fetcher.fetch(ref)
    except Exception as exc:  # the provider's failure is the officer's 502, never a trace with the token
        log.warning("attachment not fetched case=%s n=%d error=%s", report.case_no, number, exc.__class__.__name__)
        raise web.HTTPBadGateway() from None
    await desk.cases.record(scope, "unduh", _net(request), report.case_no, f"lampiran {number}")
    safe = kind if kind.startswith(("image/", "audio/", "video/")) or kind == "application/pdf" \
        else "application/octet-stream"
    return web.Response(body=body, content_type=safe, headers={
        "Content-Disposition": f'attachment; filename="{report.case_no}-{number}"'})


# Figures ---------------------------------------------------------------------------------------
def _period(request: web.Request) -> tuple[dt.datetime, dt.datetime, tuple[str, ...]]:
    desk = request.app[DESK]
    scope = scope_of(request)
    if not scope.cases:
        raise web.HTTPNotFound()
    today = desk.clock().astimezone(WIB).date()
    end = _date(request.query.get("sampai")) or dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), WIB)
    start = _date(request.query.get("dari")) or end - dt.timedelta(weeks=12)
    if end <= start or end - start > dt.timedelta(days=731):
        start = end - dt.timedelta(weeks=12)
    office = request.query.get("kantor")
    if office:
        if office not in scope.offices:
            raise web.HTTPNotFound()   # another office's figures do not exist for this reader
        return start, end, (office,)
    return start, end, scope.offices


async def _figures(request: web.Request) -> tuple[list[figures.Table], dt.datetime, dt.datetime]:
    desk = request.app[DESK]
    start, end, offices = _period(request)
    tables = await figures.collect(desk.store, desk.cases.settings, desk.text, scope_of(request), offices,
                                   start, end, desk.cases.overdue_cutoffs())
    return tables, start, end


async def figures_page(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    tables, start, end = await _figures(request)
    scope = scope_of(request)
    return await render(request, "figures.html", {
        "tables": tables, "start": start.date().isoformat(),
        "end": (end - dt.timedelta(days=1)).date().isoformat(), "kantor": request.query.get("kantor", ""),
        "offices": {o: desk.cases.settings.office(o).name for o in scope.offices},
        "query": request.query_string})


async def figures_csv(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    tables, start, _ = await _figures(request)
    await desk.cases.record(scope_of(request), "unduh", _net(request), None, "angka.csv")
    return _csv(figures.tables_csv(tables), f"angka-{start:%Y%m%d}.csv")


async def reports_csv(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    start, end, offices = _period(request)
    reports = await desk.store.reports_in(offices, start, end)
    await desk.cases.record(scope_of(request), "unduh", _net(request), None, "laporan.csv")
    return _csv(export_reports_csv(reports, desk.cases.settings, desk.cases.casework.deadlines, desk.clock()),
                f"laporan-{start:%Y%m%d}.csv")


def _csv(text: str, filename: str) -> web.Response:
    return web.Response(text=text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# The regional view (the Kantor Wilayah) ---------------------------------------------------------
async def _regional(request: web.Request) -> tuple[list[figures.Table], dt.datetime, dt.datetime]:
    desk = request.app[DESK]
    if scope_of(request).role != "regional":
        raise web.HTTPNotFound()
    start, end, offices = _period(request)
    tables = await regional.collect(desk.store, desk.cases.settings, desk.cases.casework.deadlines, desk.text,
                                    offices, start, end, desk.clock())
    return tables, start, end


async def regional_page(request: web.Request) -> web.Response:
    tables, start, end = await _regional(request)
    return await render(request, "regional.html", {
        "tables": tables, "start": start.date().isoformat(),
        "end": (end - dt.timedelta(days=1)).date().isoformat(), "query": request.query_string})


async def regional_csv(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    tables, start, _ = await _regional(request)
    await desk.cases.record(scope_of(request), "unduh", _net(request), None, "wilayah.csv")
    return _csv(figures.tables_csv(tables), f"wilayah-{start:%Y%m%d}.csv")


# Unanswered questions (editors) ----------------------------------------------------------------
def _editor(request: web.Request) -> Scope:
    scope = scope_of(request)
    if not scope.can_edit:
        raise web.HTTPNotFound()
    return scope


async def questions(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    _editor(request)
    rows = await desk.store.open_unanswered(100)
    return await render(request, "questions.html", {"rows": rows})


def _question_key(normalized: str) -> str:
    """The form names a question group by a hash: its words never travel in a URL."""
    return hashlib.sha256(normalized.encode()).hexdigest()[:16]


async def _question(request: web.Request) -> str | None:
    desk = request.app[DESK]
    form = await request.post()
    wanted = str(form.get("kunci", ""))
    for normalized, *_ in await desk.store.open_unanswered(1000):
        if _question_key(normalized) == wanted:
            return normalized
    return None


async def question_draft(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    scope = _editor(request)
    normalized = await _question(request)
    if normalized is None:
        raise web.HTTPNotFound()
    path = drafts.write_draft(desk.content_dir, normalized)
    await desk.cases.record(scope, "draf", _net(request), None, path.name)
    await desk.store.desk_session_flash(request[SESSION].token_hash, desk.text("flash_draft", file=path.name))
    return _see_other(_url(request, "questions"))


async def question_done(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    scope = _editor(request)
    normalized = await _question(request)
    if normalized is None:
        raise web.HTTPNotFound()
    await desk.store.mark_unanswered_handled(normalized, desk.clock())
    await desk.cases.record(scope, "pertanyaan_selesai", _net(request))
    await desk.store.desk_session_flash(request[SESSION].token_hash, desk.text("flash_question_done"))
    return _see_other(_url(request, "questions"))


# The trail ---------------------------------------------------------------------------------------
async def _trail(request: web.Request) -> list[Any]:
    desk = request.app[DESK]
    scope = scope_of(request)
    if not scope.can_trail:
        raise web.HTTPNotFound()
    q = request.query
    # Failed logins for addresses that are no officer's belong to no office: the Kanwil sees them.
    offices = (*scope.offices, "-") if scope.role == "regional" else scope.offices
    return await desk.store.audit_list(
        offices, case_no=(q.get("kasus") or "").upper() or None, officer_key=q.get("petugas") or None,
        action=q.get("aksi") or None, since=_date(q.get("dari")), until=_date(q.get("sampai")), limit=500)


async def trail(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    rows = await _trail(request)
    officers = {d.key: d.officer.name for d in (desk.directory.get(r.officer_key) for r in rows) if d}
    return await render(request, "trail.html", {"rows": rows, "officers": officers, "q": request.query})


async def trail_csv(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    rows = await _trail(request)
    await desk.cases.record(scope_of(request), "unduh", _net(request), None, "jejak.csv")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["at", "officer", "office", "action", "case_no", "detail", "network"])
    for r in rows:
        w.writerow([r.at.isoformat(), r.officer_key, r.office_id, r.action, r.case_no or "", r.detail, r.net])
    return _csv(out.getvalue(), "jejak.csv")


# The words ---------------------------------------------------------------------------------------
_FAMILIES = {"role_": ("officer", "head", "regional", "editor"), "status_": STATUSES, "tab_": TABS,
             "deadline_": ("tanggap", "tutup"),
             "risk_": ("tinggi", "sedang", "rendah"), "decision_": ("answer", "suggest", "none"),
             "error_": ("403", "404", "502"), "msg_": ("pending", "sent", "failed")}
_USES = (re.compile(r"\bt\.([a-z][a-z_0-9]*)"), re.compile(r"\bt\['([a-z][a-z_0-9]*)'\]"),
         re.compile(r"(?:[\s(]t|\.t|\btext)\(\"([a-z][a-z_0-9]*)\""))


def needed_labels() -> set[str]:
    """Every label of content/console.yaml the templates and this package ask for."""
    found = {f"{prefix}{value}" for prefix, values in _FAMILIES.items() for value in values}
    for path in (*(HERE / "templates").glob("*.html"), *HERE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern in _USES:
            found.update(m for m in pattern.findall(text) if m not in ("get", "labels", "outcomes", "format"))
    return found


# The app -----------------------------------------------------------------------------------------
def _qs(kept: Any, **changes: Any) -> str:
    """A query string: the kept filters with `changes` (None drops a key)."""
    merged = {**dict(kept), **changes}
    parts = {k: str(v) for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(parts) if parts else ""


def _wib(moment: dt.datetime | None) -> str:
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M") if moment else "-"


def build(desk: Desk) -> web.Application:
    """The console as a sub-application, mounted under /console: its middlewares touch nothing else.

    Order matters: headers wrap everything (errors too), the session is loaded before CSRF is
    checked against it.
    """
    app = web.Application(middlewares=[headers_mw, session_mw, csrf_mw])
    app[DESK] = desk
    static = HERE / "static"
    app[STATIC_HASHES] = {str(p.relative_to(static)): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
                          for p in static.rglob("*") if p.is_file()}
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               undefined=jinja2.StrictUndefined)
    env.filters["wib"] = _wib
    env.filters["dmy"] = lambda d: d.astimezone(WIB).strftime("%d-%m-%Y") if d else "-"
    app.add_routes([
        web.get("/", home, name="home"),
        web.get("/masuk", login, name="login"),
        web.post("/masuk", login_post, name="login_post"),
        web.get("/kode", code, name="code"),
        web.post("/kode", code_post, name="code_post"),
        web.get("/tautan/{token}", link, name="link"),
        web.post("/tautan/{token}", link_post, name="link_post"),
        web.post("/keluar", logout, name="logout"),
        web.get("/kasus", inbox, name="inbox"),
        web.post("/kasus/cari", inbox_search, name="inbox_search"),
        web.get("/kasus/{case_no}", case_page, name="case"),
        web.post("/kasus/{case_no}/{verb}", case_action, name="case_action"),
        web.get("/kasus/{case_no}/lampiran/{n}", attachment, name="attachment"),
        web.get("/angka", figures_page, name="figures"),
        web.get("/angka.csv", figures_csv, name="figures_csv"),
        web.get("/laporan.csv", reports_csv, name="reports_csv"),
        web.get("/wilayah", regional_page, name="regional"),
        web.get("/wilayah.csv", regional_csv, name="regional_csv"),
        web.get("/pertanyaan", questions, name="questions"),
        web.post("/pertanyaan/draf", question_draft, name="question_draft"),
        web.post("/pertanyaan/selesai", question_done, name="question_done"),
        web.get("/jejak", trail, name="trail"),
        web.get("/jejak.csv", trail_csv, name="trail_csv"),
        web.static("/static", static, name="static"),
    ])
    env.globals["question_key"] = _question_key
    env.globals["qs"] = _qs
    return app
