"""The command line: `desa-imigrasi run | chat | ask | check-content | eval | unanswered | console-link`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import drafts, markup, stats
from bot.app import Knowledge, build_dialogue, build_knowledge, build_outbox, default_config_path
from bot.broadcast import Broadcasts
from bot.channels.console import ConsoleChat, ConsoleDeliverer
from bot.checker import check, unknown_config_values
from bot.deadlines import Deadlines
from bot.errors import BotError
from bot.evaluation import evaluate, load_questions
from bot.faq import Decision, Match
from bot.models import Channel
from bot.routing import OfficerIdentity, has_live_channel, reachable
from bot.store import Store, is_postgresql, sqlite_path
from bot.villages import find_village, place_of, village_values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="desa-imigrasi", description=__doc__)
    parser.add_argument("--config", type=Path, default=None,
                        help="config file (default: config.yaml, else config.example.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="show the matcher's decision and answer for a message")
    ask.add_argument("text", nargs="?", help="the message; without it, ask interactively")
    ask.add_argument("--village", help="village id or name, to fill answers that depend on it")
    cc = sub.add_parser("check-content", help="validate content/ and the config; exit 0 only when clean")
    cc.add_argument("--strict", action="store_true",
                    help="a config value a villager would need that is still GANTI is an error "
                         "(what `run` checks before starting a real channel)")
    ev = sub.add_parser("eval", help="measure the matcher on a question file")
    ev.add_argument("file", type=Path)
    ev.add_argument("--json", action="store_true", help="print one JSON object of figures")
    chat = sub.add_parser("chat", help="the whole bot in the terminal: you are a villager")
    chat.add_argument("--db", help="a SQLite file or a database URL (default: storage in the config)")
    run_cmd = sub.add_parser("run", help="start the configured channels; with no credentials, the terminal chat")
    run_cmd.add_argument("--db", help="a SQLite file or a database URL")
    bk = sub.add_parser("backup", help="copy the database to PATH with the online backup API (safe while running)")
    bk.add_argument("path", type=Path)
    bk.add_argument("--db", help="a SQLite file or a database URL")
    un = sub.add_parser("unanswered", help="questions the FAQ could not answer, most frequent first")
    un.add_argument("--db", help="a SQLite file or a database URL")
    un.add_argument("--limit", type=int, default=50)
    un.add_argument("--draft", type=int, metavar="N",
                    help="write a draft FAQ entry for the N-th question of the list to content/drafts/")
    st = sub.add_parser("stats", help="figures for the office: questions, reports, response times")
    st.add_argument("--db", help="a SQLite file or a database URL")
    st.add_argument("--office", help="office id (default: all offices)")
    st.add_argument("--from", dest="start", type=_date, help="first day, YYYY-MM-DD (default: 30 days ago)")
    st.add_argument("--to", dest="end", type=_date, help="last day, YYYY-MM-DD (default: today)")
    st.add_argument("--csv", action="store_true")
    ex = sub.add_parser("export", help="export reports for the monthly recap")
    ex.add_argument("what", choices=["reports"])
    ex.add_argument("--csv", action="store_true", required=True)
    ex.add_argument("--db", help="a SQLite file or a database URL")
    ex.add_argument("--office")
    ex.add_argument("--from", dest="start", type=_date)
    ex.add_argument("--to", dest="end", type=_date)
    bc = sub.add_parser("broadcast", help="send an announcement to registered villagers (preview first)")
    bc.add_argument("--db", help="a SQLite file or a database URL")
    bc.add_argument("--office", required=True, help="the sending office id (KWL: the regional office)")
    bc.add_argument("--to", dest="target", required=True, help="a village id or name, or 'semua'")
    bc.add_argument("--text", required=True)
    bc.add_argument("--yes", action="store_true", help="send without asking for confirmation")
    cl = sub.add_parser("console-link", help="print a one-time login link to the office console (10 minutes)")
    cl.add_argument("officer", help="the officer's id in the config (e.g. SGU-1: first officer of SGU)")
    cl.add_argument("--db", help="a SQLite file or a database URL")
    mg = sub.add_parser("migrate-db", help="copy the SQLite database into an empty PostgreSQL one, and check it")
    mg.add_argument("--to", dest="target", required=True, help="postgresql://user@host/database (empty)")
    mg.add_argument("--db", help="the SQLite file (default: storage.database in the config)")
    args = parser.parse_args(argv)
    default_level = "INFO" if args.command == "run" else "WARNING"
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", default_level).upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")

    try:
        knowledge = build_knowledge(args.config or default_config_path(), os.environ)
        if args.command == "ask":
            return _ask(knowledge, args.text, args.village)
        if args.command == "check-content":
            return _check_content(knowledge, args.strict)
        if args.command == "eval":
            return _eval(knowledge, args.file, args.json)
        if args.command == "chat":
            return asyncio.run(_chat(knowledge, args.db))
        if args.command == "run":
            if not _ready_to_go_live(knowledge):
                return 1
            from bot import runtime
            return asyncio.run(runtime.run(knowledge, args.db))
        if args.command == "backup":
            return asyncio.run(_backup(knowledge, args.db, args.path))
        if args.command == "unanswered":
            return asyncio.run(_unanswered(knowledge, args.db, args.limit, args.draft))
        if args.command == "stats":
            return asyncio.run(_stats(knowledge, args))
        if args.command == "export":
            return asyncio.run(_export(knowledge, args))
        if args.command == "broadcast":
            return asyncio.run(_broadcast(knowledge, args))
        if args.command == "migrate-db":
            return asyncio.run(_migrate_db(knowledge, args.db, args.target))
        if args.command == "console-link":
            return asyncio.run(_console_link(knowledge, args.db, args.officer))
    except BotError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


async def _chat(knowledge: Knowledge, db: str | None) -> int:
    async with Store.open(db or knowledge.settings.storage) as store:
        dialogue = build_dialogue(knowledge, store)
        outbox = build_outbox(store, {Channel.CONSOLE: ConsoleDeliverer(sys.stdout)})
        await ConsoleChat(dialogue, outbox, sys.stdin, sys.stdout).run()
    return 0


async def _backup(knowledge: Knowledge, db: str | None, target: Path) -> int:
    source = db or knowledge.settings.storage
    if is_postgresql(source):
        print("backup copies a SQLite database; back PostgreSQL up with pg_dump", file=sys.stderr)
        return 1
    if not _sqlite_file(source):
        print(f"{source}: no database to back up", file=sys.stderr)
        return 1
    async with Store.open(source) as store:
        await store.backup(target)
    print(f"backed up {source} to {target}")
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-11-28") from None


def _period(args: argparse.Namespace) -> tuple[dt.datetime, dt.datetime]:
    today = dt.datetime.now(dt.UTC).date()
    last = args.end or today
    first = args.start or (last - dt.timedelta(days=29))
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)


def _known_office(knowledge: Knowledge, office_id: str | None) -> bool:
    if office_id is None:
        return True
    try:
        knowledge.settings.office(office_id)
    except KeyError:
        print(f"unknown office: {office_id!r}", file=sys.stderr)
        return False
    return True


async def _stats(knowledge: Knowledge, args: argparse.Namespace) -> int:
    if not _known_office(knowledge, args.office):
        return 1
    start, end = _period(args)
    async with Store.open(args.db or knowledge.settings.storage) as store:
        figures = await stats.collect(store, knowledge.settings, args.office, start, end,
                                      Deadlines(knowledge.settings.deadlines), dt.datetime.now(dt.UTC))
    plain = markup.to_plain(stats.render_text(figures, knowledge.content))
    text = stats.render_csv(figures) if args.csv else plain
    print(text, end="" if args.csv else "\n")
    return 0


async def _export(knowledge: Knowledge, args: argparse.Namespace) -> int:
    if not _known_office(knowledge, args.office):
        return 1
    start, end = (_period(args) if (args.start or args.end)
                  else (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 1, 1, tzinfo=dt.UTC)))
    async with Store.open(args.db or knowledge.settings.storage) as store:
        reports = await store.reports_between(args.office, start, end)
    sys.stdout.write(stats.export_reports_csv(reports, knowledge.settings, Deadlines(knowledge.settings.deadlines),
                                              dt.datetime.now(dt.UTC)))
    return 0


async def _broadcast(knowledge: Knowledge, args: argparse.Namespace) -> int:
    if not _known_office(knowledge, args.office):
        return 1
    office = knowledge.settings.office(args.office)
    regional = office is knowledge.settings.regional_office
    who = OfficerIdentity(office.id, "desa-imigrasi broadcast", regional, can_broadcast=True)
    async with Store.open(args.db or knowledge.settings.storage) as store:
        broadcasts = Broadcasts(knowledge.settings, knowledge.content, store)
        preview, draft = await broadcasts.prepare(who, args.target, args.text)
        print(markup.to_plain(preview.text))
        if draft is None:
            return 1
        if not args.yes:
            if not sys.stdin.isatty():
                print("not sent: confirm with --yes when not at a terminal", file=sys.stderr)
                return 1
            answer = await asyncio.to_thread(input, "Kirim? [y/N] ")
            if answer.strip().lower() not in ("y", "ya", "yes"):
                print("not sent")
                return 1
        broadcast_id, count = await broadcasts.send(who, draft, dt.datetime.now(dt.UTC))
    print(f"broadcast {broadcast_id} queued for {count} villagers; the running bot delivers it")
    return 0


def _sqlite_file(target: str) -> bool:
    return Path(sqlite_path(target)).exists()


async def _migrate_db(knowledge: Knowledge, db: str | None, target: str) -> int:
    """Copy, then print each table's rows and checksum on both sides; 0 only when all agree."""
    from bot import store_copy
    source = db or str(knowledge.settings.database)
    if is_postgresql(source) or not is_postgresql(target):
        print("migrate-db copies a SQLite file (--db) into a PostgreSQL database (--to postgresql://…)",
              file=sys.stderr)
        return 1
    if not _sqlite_file(source):
        print(f"{source}: no database to copy", file=sys.stderr)
        return 1
    async with Store.open(source) as sqlite, Store.open(target) as postgresql:
        checks = await store_copy.copy(sqlite, postgresql)
    for c in checks:
        print(f"{c.table:<20} rows {c.source_rows:>8} -> {c.target_rows:<8} sha256 {c.source_sum[:16]} "
              f"{'ok' if c.ok else 'DIFFERS ' + c.target_sum[:16]}")
    bad = [c.table for c in checks if not c.ok]
    if bad:
        print(f"copied, but these tables differ: {', '.join(bad)}", file=sys.stderr)
        return 1
    print(f"copied {sum(c.source_rows for c in checks)} rows in {len(checks)} tables; every table checked")
    return 0


async def _console_link(knowledge: Knowledge, db: str | None, officer: str) -> int:
    """A login link for setting up the console, and for `make run` trials without a chat."""
    from bot.desk import build_desk
    settings = knowledge.settings
    known_keys = [o.key for _, o in settings.officers()]
    if officer not in known_keys:
        print(f"unknown officer '{officer}'; officers in the config: {', '.join(known_keys) or 'none'}",
              file=sys.stderr)
        return 1
    async with Store.open(db or settings.storage) as store:
        casework = build_dialogue(knowledge, store).casework
        token = await build_desk(casework, store, frozenset()).auth.link(officer)
    base = (settings.secrets.public_base_url or f"http://localhost:{settings.secrets.port}").rstrip("/")
    print(f"{base}/console/tautan/{token}")
    print("valid 10 minutes, once; open it in the officer's browser", file=sys.stderr)
    return 0


async def _unanswered(knowledge: Knowledge, db: str | None, limit: int, draft: int | None) -> int:
    async with Store.open(db or knowledge.settings.storage) as store:
        rows = await store.unanswered(limit)
    if not rows:
        print("no unanswered questions recorded")
        return 0
    if draft is not None:
        if not 1 <= draft <= len(rows):
            print(f"--draft takes a number from 1 to {len(rows)}", file=sys.stderr)
            return 1
        path = drafts.write_draft(knowledge.settings.content_dir, rows[draft - 1][0])
        print(f"draft written: {path} (complete it, move it into content/faq/, run check-content)")
        return 0
    print(f"{'count':>5}  {'last seen':<16}  question (normalised)")
    for normalized, _example, count, last_seen in rows:
        print(f"{count:>5}  {last_seen:%Y-%m-%d %H:%M}  {normalized}")
    return 0


def _ask(knowledge: Knowledge, text: str | None, village_name: str | None) -> int:
    values = None
    if village_name:
        village = find_village(knowledge.settings, village_name)
        if village is None:
            print(f"unknown village: {village_name!r}", file=sys.stderr)
            return 1
        values = village_values(knowledge.settings, place_of(village))
    if text is not None:
        print(_describe(knowledge, knowledge.index.match(text), values))
        return 0
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("\nTanya (Ctrl-D untuk keluar)> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        print(_describe(knowledge, knowledge.index.match(line.rstrip("\n")), values))


def _describe(knowledge: Knowledge, match: Match, values: dict[str, str] | None) -> str:
    content = knowledge.content
    scores = ", ".join(f"{c.entry_id} {c.score:.3f}" for c in match.candidates) or "-"
    lines = [f"decision: {match.decision.value} ({match.reason})", f"scores: {scores}",
             f"words: {' '.join(match.normalized.tokens) or '-'}", "---"]
    if match.decision is Decision.ANSWER:
        lines.append(markup.to_plain(content.entry(match.candidates[0].entry_id).render(values)))
    elif match.decision is Decision.SUGGEST:
        lines.append(content.message("faq_suggest"))
        for i, cand in enumerate(match.candidates, 1):
            lines.append(f"{i}. {content.entry(cand.entry_id).question}")
    elif match.reason == "chitchat":
        lines.append(content.message("faq_chitchat"))
    elif match.reason == "no-words" and not match.normalized.folded:
        lines.append(content.message("faq_empty"))
    else:
        lines.append(content.message("faq_none"))
    return "\n".join(lines)


def _check_content(knowledge: Knowledge, strict: bool) -> int:
    if knowledge.settings.console:
        from bot.content import load_console
        from bot.desk import needed_labels
        labels = load_console(knowledge.settings.content_dir).labels   # raises ContentError naming the key
        missing = sorted(needed_labels() - set(labels))
        if missing:
            print("\n".join(f"content/console.yaml: labels.{key}: missing (the console needs it)"
                            for key in missing))
            return 1
    report = check(knowledge.content, knowledge.settings, knowledge.index, strict=strict)
    for warning in report.warnings:
        print(f"warning: {warning}")
    for problem in report.problems:
        print(problem)
    entries = len(knowledge.content.entries)
    if report.problems:
        print(f"{len(report.problems)} problem(s) in {entries} entries "
              f"({report.phrasings_checked} questions and phrasings checked)")
        return 1
    warned = f", {len(report.warnings)} warning(s)" if report.warnings else ""
    print(f"content OK: {entries} entries, {report.phrasings_checked} questions and phrasings "
          f"checked, {len(knowledge.settings.villages)} villages, "
          f"{len(knowledge.settings.offices)} offices{warned}")
    return 0


def _ready_to_go_live(knowledge: Knowledge) -> bool:
    """With a real channel configured, refuse to start while a villager would need a GANTI value.

    The terminal chat (no credentials) always starts: it is for trying the bot out.
    """
    if not has_live_channel(knowledge.settings.secrets):
        return True
    alone = not any(reachable(o) for o in knowledge.settings.all_offices)
    if alone:
        # Every alert would wait for the terminal chat's stand-ins, which a live bot does not run.
        print("Not starting: a channel is configured, but no office has an alert chat or an officer's "
              "telegram_id or whatsapp: reports would reach nobody. See the warnings of "
              "desa-imigrasi check-content.", file=sys.stderr)
    missing = unknown_config_values(knowledge.content, knowledge.settings)
    if not missing:
        return not alone
    print(f"Not starting: a channel is configured, but {len(missing)} config value(s) that "
          "villagers would be told are still unknown (empty or GANTI). Fill them in the config "
          "from the office (or start without channel credentials for the terminal chat):",
          file=sys.stderr)
    for line in missing:
        print(f"  - {line}", file=sys.stderr)
    print("Check again with: desa-imigrasi check-content --strict", file=sys.stderr)
    return False


def _eval(knowledge: Knowledge, path: Path, as_json: bool) -> int:
    questions = load_questions(path)
    known = {e.id for e in knowledge.content.entries}
    unknown = sorted({i for q in questions for i in (q.acceptable or ()) if i not in known})
    if unknown:
        print(f"{path}: ids not in the content: {', '.join(unknown)}", file=sys.stderr)
        return 1

    def decide(text: str) -> tuple[Decision, list[str]]:
        m = knowledge.index.match(text)
        return m.decision, [c.entry_id for c in m.candidates]

    figures, outcomes = evaluate(questions, decide)
    if as_json:
        print(json.dumps(figures.as_dict()))
        return 0
    misses = [o for o in outcomes if o.verdict not in ("answered_correct", "off_topic_ok")]
    if misses:
        print(f"{'verdict':<19} {'decision':<8} {'expected':<28} got / question")
        for o in misses:
            expected = ",".join(sorted(o.question.acceptable or {"(off-topic)"}))
            got = ",".join(o.ids[:3]) or "-"
            print(f"{o.verdict:<19} {o.decision.value:<8} {expected:<28} {got} / {o.question.text}")
        print()
    rates = figures.rates()
    print(f"in-domain {figures.in_domain}: answered correctly {figures.answered_correct} "
          f"({rates['answered_correct']:.1%}), answered or suggested "
          f"{figures.answered_correct + figures.suggested_correct} "
          f"({rates['answered_or_suggested']:.1%}), answered wrongly {figures.answered_wrong} "
          f"({rates['answered_wrong']:.1%}), missed {figures.missed}")
    print(f"off-topic {figures.off_topic}: answered {figures.off_topic_answered} "
          f"({rates['off_topic_answered']:.1%})")
    print(f"decision time: p50 {figures.p50_ms:.3f} ms, p99 {figures.p99_ms:.3f} ms")
    print(f"decision hash: {figures.decision_hash}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
