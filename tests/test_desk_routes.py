"""Every console route × every role × an own-office and a foreign-office case: status, and no foreign data.

The table must cover every route the console registers: a new route without a row fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Knowledge
from bot.desk.web import _question_key, build
from bot.reporting import Assessment
from bot.store import NewReport
from tests.desk_rig import ROLES, Rig, csrf_of, make_console_config, open_rig
from tests.fakes import villager
from tests.villagers import register

OWN_NAME, FOREIGN_NAME = "Rekrut Sanggau Khas", "Rekrut Ketapang Khas"


class FakeMedia:
    """The providers' file servers, at the edge: any reference gives a tiny JPEG."""

    def handles(self, ref: str) -> bool:
        return True

    async def fetch(self, ref: str) -> tuple[bytes, str]:
        return b"\xff\xd8\xff-" + ref.encode(), "image/jpeg"


@pytest.fixture(scope="module")
def cdesk(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    return make_console_config(tmp_path_factory.mktemp("console"))


async def seed(rig: Rig) -> dict[str, str]:
    """One case of Kanim Sanggau, one of Kanim Ketapang (each with an attachment), one unanswered question."""
    numbers = {}
    for office, village, name in (("SGU", "semuntai", OWN_NAME), ("KTG", "kendawangan-kiri", FOREIGN_NAME)):
        report = await rig.bot.dialogue.casework.file(NewReport(
            office_id=office, village_id=village, risk="tinggi", flags=("bayar",),
            answers={"cerita": f"{name} menawarkan kerja"}, media=(f"file-{office}",),
            recruiter_phone=None, recruiter_name=name, recruiter_company=None,
            reporter_key=villager(office).key, contactable=True), Assessment("tinggi", 9, ()),
            rig.bot.clock())
        numbers[office] = report.case_no
    chat = rig.bot.chat(villager(9))
    await register(chat)
    await chat.say("resep kue lapis legit")
    rows = await rig.bot.dialogue.store.open_unanswered()
    numbers["question"] = _question_key(rows[0][0])
    return numbers


# role -> (own office, offices whose cases it reads)
READS = {"anonymous": (None, set()), "officer": ("SGU", {"SGU"}), "head": ("SGU", {"SGU"}),
         "foreign": ("KTG", {"KTG"}), "regional": ("KWL", {"SGU", "KTG"}), "editor": ("SGU", set())}


def expected(role: str, route: str, case_office: str | None) -> int:
    """The status a role gets on a route (for a case of `case_office` where the route names one)."""
    post = route in POSTS
    if role == "anonymous" and route not in PUBLIC:
        return 403 if post else 303
    reads = READS[role][1]
    if route in ("home",):
        return 303
    if route in ("login", "code", "link", "static"):
        return 200
    if route == "login_post":
        return 303
    if route in ("code_post", "link_post"):
        return 400
    if route == "logout":
        return 303
    if route in ("inbox", "figures", "figures_csv", "reports_csv"):
        return 200 if reads else 404
    if route == "inbox_search":
        return 303 if reads else 404
    if route in ("case", "attachment"):
        return 200 if case_office in reads else 404
    if route == "case_action":
        return 303 if case_office in reads else 404
    if route == "questions":
        return 200 if role in ("editor", "regional") else 404
    if route in ("question_draft", "question_done"):
        return 303 if role in ("editor", "regional") else 404
    if route in ("trail", "trail_csv"):
        return 200 if role in ("head", "regional") else 404
    if route in ("regional", "regional_csv"):
        return 200 if role == "regional" else 404
    raise AssertionError(f"no expectation for {route}")


PUBLIC = {"login", "login_post", "code", "code_post", "link", "link_post", "static"}
POSTS = {"login_post", "code_post", "link_post", "logout", "inbox_search", "case_action", "question_draft",
         "question_done"}
CASE_ROUTES = {"case", "case_action", "attachment"}


def requests(numbers: dict[str, str], case_no: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    key = numbers["question"]
    return {
        "home": ("GET", "/console/", {}),
        "login": ("GET", "/console/masuk", {}),
        "login_post": ("POST", "/console/masuk", {"alamat": "99999"}),
        "code": ("GET", "/console/kode", {}),
        "code_post": ("POST", "/console/kode", {"kode": "123456"}),
        "link": ("GET", "/console/tautan/not-a-token", {}),
        "link_post": ("POST", "/console/tautan/not-a-token", {}),
        "inbox": ("GET", "/console/kasus?tab=baru", {}),
        "inbox_search": ("POST", "/console/kasus/cari", {"q": "Rekrut", "tab": "baru"}),
        "case": ("GET", f"/console/kasus/{case_no}", {}),
        "case_action": ("POST", f"/console/kasus/{case_no}/catatan", {"teks": "catatan uji"}),
        "attachment": ("GET", f"/console/kasus/{case_no}/lampiran/1", {}),
        "figures": ("GET", "/console/angka", {}),
        "figures_csv": ("GET", "/console/angka.csv", {}),
        "reports_csv": ("GET", "/console/laporan.csv", {}),
        "questions": ("GET", "/console/pertanyaan", {}),
        "question_draft": ("POST", "/console/pertanyaan/draf", {"kunci": key}),
        "question_done": ("POST", "/console/pertanyaan/selesai", {"kunci": key}),
        "trail": ("GET", "/console/jejak", {}),
        "trail_csv": ("GET", "/console/jejak.csv", {}),
        "regional": ("GET", "/console/wilayah", {}),
        "regional_csv": ("GET", "/console/wilayah.csv", {}),
        "static": ("GET", "/console/static/console.css", {}),
        "logout": ("POST", "/console/keluar", {}),   # last: it ends the session
    }


async def test_the_table_covers_every_console_route(cdesk: Knowledge, tmp_path: Path) -> None:
    async with open_rig(cdesk, tmp_path) as rig:
        app_routes = {(r.method, r.name) for r in build(rig.desk).router.routes() if r.name}
    table = requests({"question": "x"}, "SGU-2026-0001")
    assert {name for _, name in app_routes} == set(table)
    for method, name in app_routes:
        if method != "HEAD":
            assert table[name][0] == method, name


@pytest.mark.parametrize("role", list(READS))
async def test_every_route_for_a_role_on_own_and_foreign_cases(cdesk: Knowledge, tmp_path: Path,
                                                             role: str) -> None:
    async with open_rig(cdesk, tmp_path) as rig:
        # The rig has no provider: attachments come from the fake file server at the edge.
        object.__setattr__(rig.desk, "media", (FakeMedia(),))
        numbers = await seed(rig)
        if role == "anonymous":
            client = await rig.client()
            csrf = csrf_of(await (await client.get("/console/masuk")).text())
        else:
            client, csrf = await rig.login(ROLES[role])
        # Forms before login carry the browser's own token (the cookie's), not the session's.
        pre = csrf_of(await (await client.get("/console/masuk")).text())
        for case_office in ("SGU", "KTG"):
            for route, (method, url, form) in requests(numbers, numbers[case_office]).items():
                if route == "logout":
                    continue
                if route not in CASE_ROUTES and case_office == "KTG":
                    continue   # routes without a case are walked once
                want = expected(role, route, case_office)
                if method == "POST":
                    token = pre if route in PUBLIC else csrf
                    answer = await client.post(url, data={**form, "_csrf": token}, allow_redirects=False)
                    if route not in PUBLIC or role == "anonymous":
                        refused = await client.post(url, data=form, allow_redirects=False)
                        assert refused.status == 403, (role, route, "without CSRF")
                else:
                    answer = await client.get(url, allow_redirects=False)
                body = await answer.read()
                assert answer.status == want, (role, route, case_office, answer.status)
                readable = READS[role][1]
                for office, name in (("SGU", OWN_NAME), ("KTG", FOREIGN_NAME)):
                    if office not in readable and route not in ("question_draft",):
                        assert name.encode() not in body, (role, route, "shows", office)
                        assert numbers[office].encode() not in body or route in ("case_action",), \
                            (role, route, "names", numbers[office])
        method, url, form = requests(numbers, numbers["SGU"])["logout"]
        out = await client.post(url, data={**form, "_csrf": csrf}, allow_redirects=False)
        assert out.status == expected(role, "logout", None)
