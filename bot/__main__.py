"""The command line: `desa-imigrasi run | chat | ask | check-content | eval | unanswered`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import markup
from bot.app import Knowledge, build_dialogue, build_knowledge, build_outbox, default_config_path
from bot.channels.console import ConsoleChat, ConsoleDeliverer
from bot.checker import check
from bot.errors import BotError
from bot.evaluation import evaluate, load_questions
from bot.faq import Decision, Match
from bot.models import Channel
from bot.store import Store
from bot.villages import find_village, village_values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="desa-imigrasi", description=__doc__)
    parser.add_argument("--config", type=Path, default=None,
                        help="config file (default: config.yaml, else config.example.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="show the matcher's decision and answer for a message")
    ask.add_argument("text", nargs="?", help="the message; without it, ask interactively")
    ask.add_argument("--village", help="village id or name, to fill answers that depend on it")
    sub.add_parser("check-content", help="validate content/ and the config; exit 0 only when clean")
    ev = sub.add_parser("eval", help="measure the matcher on a question file")
    ev.add_argument("file", type=Path)
    ev.add_argument("--json", action="store_true", help="print one JSON object of figures")
    chat = sub.add_parser("chat", help="the whole bot in the terminal: you are a villager")
    chat.add_argument("--db", type=Path, help="SQLite file (default: storage.database in the config)")
    run_cmd = sub.add_parser("run", help="start the configured channels; with no credentials, the terminal chat")
    run_cmd.add_argument("--db", type=Path)
    bk = sub.add_parser("backup", help="copy the database to PATH with the online backup API (safe while running)")
    bk.add_argument("path", type=Path)
    bk.add_argument("--db", type=Path)
    un = sub.add_parser("unanswered", help="questions the FAQ could not answer, most frequent first")
    un.add_argument("--db", type=Path)
    un.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)
    default_level = "INFO" if args.command == "run" else "WARNING"
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", default_level).upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")

    try:
        knowledge = build_knowledge(args.config or default_config_path(), os.environ)
        if args.command == "ask":
            return _ask(knowledge, args.text, args.village)
        if args.command == "check-content":
            return _check_content(knowledge)
        if args.command == "eval":
            return _eval(knowledge, args.file, args.json)
        if args.command == "chat":
            return asyncio.run(_chat(knowledge, args.db))
        if args.command == "run":
            from bot import runtime
            return asyncio.run(runtime.run(knowledge, args.db))
        if args.command == "backup":
            return asyncio.run(_backup(knowledge, args.db, args.path))
        if args.command == "unanswered":
            return asyncio.run(_unanswered(knowledge, args.db, args.limit))
    except BotError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


async def _chat(knowledge: Knowledge, db: Path | None) -> int:
    async with Store.open(db or knowledge.settings.database) as store:
        dialogue = build_dialogue(knowledge, store)
        outbox = build_outbox(store, {Channel.CONSOLE: ConsoleDeliverer(sys.stdout)})
        await ConsoleChat(dialogue, outbox, sys.stdin, sys.stdout).run()
    return 0


async def _backup(knowledge: Knowledge, db: Path | None, target: Path) -> int:
    source = db or knowledge.settings.database
    if not source.exists():
        print(f"{source}: no database to back up", file=sys.stderr)
        return 1
    async with Store.open(source) as store:
        await store.backup(target)
    print(f"backed up {source} to {target}")
    return 0


async def _unanswered(knowledge: Knowledge, db: Path | None, limit: int) -> int:
    async with Store.open(db or knowledge.settings.database) as store:
        rows = await store.unanswered(limit)
    if not rows:
        print("no unanswered questions recorded")
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
        values = village_values(knowledge.settings, village)
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


def _check_content(knowledge: Knowledge) -> int:
    report = check(knowledge.content, knowledge.settings, knowledge.index)
    for problem in report.problems:
        print(problem)
    entries = len(knowledge.content.entries)
    if report.problems:
        print(f"{len(report.problems)} problem(s) in {entries} entries "
              f"({report.phrasings_checked} questions and phrasings checked)")
        return 1
    print(f"content OK: {entries} entries, {report.phrasings_checked} questions and phrasings "
          f"checked, {len(knowledge.settings.villages)} villages, "
          f"{len(knowledge.settings.offices)} offices")
    return 0


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
