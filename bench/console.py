"""The office console under load: inbox and search over 100,000 cases, figures over a year of data.

Run: .venv/bin/python bench/console.py [--cases 100000] [--rounds 40]      (about a minute)

A fresh temporary SQLite file (as Store opens it) holds CASES reports spread over the 7 offices
and the regional office and over the past 365 days (5 % new, 15 % handled, 80 % closed; risk
20/40/40 high/medium/low; recruiter phones drawn from 20,000 numbers, names from 5,000), and a
year of FAQ decisions (300,000). Inserted with plain SQL (this is a benchmark, not the bot).
The console runs as in production: build_desk + mount on the bot's aiohttp app, on a real
loopback server (aiohttp TestServer), with a logged-in officer of Kanim Sanggau and the regional
office (Kanwil, which reads every office). Each page is fetched ROUNDS times after 3 warm-ups,
one request at a time; latency is from sending to the body read. Then every SELECT one request
of each page ran is shown with SQLite's EXPLAIN QUERY PLAN (captured by the connection's trace).
Goal (issue 13): p95 < 150 ms for the inbox and search, < 400 ms for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (puts the repository on sys.path)
from _util import machine, pct

from tests.desk_rig import REGIONAL, SGU_OFFICER, make_console_config, open_rig

OFFICES = ("PTK", "ETK", "SGU", "SBS", "PSB", "KTG", "SKW", "KWL")


def populate(db: Path, cases: int, now: dt.datetime) -> None:
    rng = random.Random(13)
    conn = sqlite3.connect(db)
    names = [f"Perekrut {i}" for i in range(5000)]
    companies = [f"PT Kerja {i}" for i in range(2000)]
    phones = [f"+62812{rng.randrange(10**7, 10**8)}" for _ in range(20000)]
    rows = []
    seq: dict[tuple[str, int], int] = {}
    for i in range(cases):
        office = OFFICES[i % len(OFFICES)] if i % 50 else "SGU"
        created = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        year = created.year
        seq[(office, year)] = seq.get((office, year), 0) + 1
        r = rng.random()
        status = "baru" if r < 0.05 else "ditangani" if r < 0.20 else "ditutup"
        ack = created + dt.timedelta(hours=rng.uniform(0.2, 30)) if status != "baru" else None
        closed = ack + dt.timedelta(hours=rng.uniform(1, 300)) if status == "ditutup" and ack else None
        risk = rng.choices(("tinggi", "sedang", "rendah"), (2, 4, 4))[0]
        name = rng.choice(names)
        answers = {"cerita": f"{name} menawarkan kerja di Malaysia dengan gaji besar, berangkat minggu depan.",
                   "nama": name, "negara": "Malaysia", "pekerjaan": "kebun sawit"}
        village = "semuntai" if office == "SGU" else f"desa-{office.lower()}-{i % 6}"
        rows.append((f"{office}-{year}-{seq[(office, year)]:05d}", office, village,
                     status, risk, json.dumps(["bayar"] if risk == "tinggi" else []), json.dumps(answers), "[]",
                     rng.choice(phones), name, rng.choice(companies), None, 0,
                     created.isoformat(timespec="seconds"), ack.isoformat(timespec="seconds") if ack else None,
                     closed.isoformat(timespec="seconds") if closed else None,
                     "tidak terbukti" if closed else None))
    conn.executemany(
        "INSERT INTO reports (case_no, office_id, village_id, status, risk, flags, answers, media, "
        "recruiter_phone, recruiter_name, recruiter_company, reporter_key, contactable, created_at, "
        "acknowledged_at, closed_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    decisions = [((now - dt.timedelta(seconds=rng.randrange(365 * 86400))).isoformat(timespec="seconds"),
                  rng.choices(("answer", "suggest", "none"), (7, 2, 1))[0], f"entri-{rng.randrange(60)}",
                  rng.choice(OFFICES[:-1] + (None,))) for _ in range(300_000)]
    conn.executemany("INSERT INTO faq_log (at, decision, entry_id, office_id) VALUES (?, ?, ?, ?)", decisions)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    knowledge = make_console_config(folder)
    print(f"# bench/console.py: {args.cases:,} cases, a year of figures; {machine()}")
    async with open_rig(knowledge, folder) as rig:
        now = rig.bot.clock()
        db_path = folder / "bot.sqlite3"
        started = time.perf_counter()
        await asyncio.to_thread(populate, db_path, args.cases, now)
        print(f"populated in {time.perf_counter() - started:.1f} s")
        store = rig.bot.dialogue.store
        some = (await store._all("SELECT case_no, recruiter_phone, recruiter_name, status FROM reports "
                                 "WHERE office_id = 'SGU' ORDER BY id DESC LIMIT 1"))[0]
        case_no, phone, name, status = some
        local_phone = "0" + phone[3:6] + "-" + phone[6:10] + "-" + phone[10:]
        officer, csrf = await rig.login(SGU_OFFICER)
        regional, rcsrf = await rig.login(REGIONAL)
        year_ago = (now - dt.timedelta(days=364)).date().isoformat()
        pages = [
            ("inbox Baru (officer, SGU)", officer, "/console/kasus?tab=baru", None),
            ("inbox Ditutup p.40 (officer)", officer, "/console/kasus?tab=ditutup&hal=40", None),
            ("inbox Baru (regional, all 8 offices)", regional, "/console/kasus?tab=baru", None),
            ("inbox Ditangani by risk (regional)", regional, "/console/kasus?tab=ditangani&urut=risiko", None),
            ("search phone, local format (regional)", regional, f"/console/kasus?tab={status}&cari=1",
             local_phone),
            ("search name (regional)", regional, f"/console/kasus?tab={status}&cari=1", name),
            ("search case number (officer)", officer, f"/console/kasus?tab={status}&cari=1", case_no),
            ("case page (officer)", officer, f"/console/kasus/{case_no}", None),
            ("figures 12 weeks (officer)", officer, "/console/angka", None),
            ("figures 1 year (regional, all offices)", regional, f"/console/angka?dari={year_ago}", None),
            ("figures 1 year (officer, SGU)", officer, f"/console/angka?dari={year_ago}", None),
        ]
        tokens = {id(officer): csrf, id(regional): rcsrf}
        statements: dict[str, list[str]] = {}
        conn: sqlite3.Connection = store.db._conn
        print("\n| page | p50 ms | p95 ms | max ms | rounds |\n|---|---|---|---|---|")
        for label, client, url, search in pages:
            if search is not None:
                await client.post("/console/kasus/cari", data={"q": search, "_csrf": tokens[id(client)]})
            timings = []
            for i in range(args.rounds + 3):
                captured: list[str] = []
                if i == 0:
                    await store.db._execute(conn.set_trace_callback, captured.append)
                t0 = time.perf_counter()
                response = await client.get(url)
                await response.read()
                elapsed = (time.perf_counter() - t0) * 1000
                if i == 0:
                    await store.db._execute(conn.set_trace_callback, None)
                    statements[label] = [s for s in captured if s.lstrip().upper().startswith("SELECT")]
                assert response.status == 200, (label, response.status)
                if search is not None and i == 0:
                    assert case_no in await response.text(), f"{label}: the case was not found"
                if i >= 3:
                    timings.append(elapsed)
            print(f"| {label} | {pct(timings, 50):.1f} | {pct(timings, 95):.1f} | {max(timings):.1f} "
                  f"| {len(timings)} |")
        plan_conn = sqlite3.connect(db_path)
        print("\n## EXPLAIN QUERY PLAN (the SELECTs of one request of each page)")
        for label, sqls in statements.items():
            print(f"\n### {label}")
            for sql in sqls:
                if "desk_sessions" in sql:
                    continue
                plan = plan_conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
                print(f"- `{' '.join(sql.split())[:230]}...`")
                for row in plan:
                    print(f"    {row[3]}")
        plan_conn.close()


if __name__ == "__main__":
    asyncio.run(main())
