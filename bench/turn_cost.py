"""What one WhatsApp turn costs in-process: CPU time, or instructions under callgrind (which do not drift).

Run: .venv/bin/python bench/turn_cost.py [CHECKOUT] [--messages 640] [--callgrind]
CHECKOUT defaults to this one; its own code is measured (this venv runs it).

The shipped config; a fresh SQLite file with the 1,000 senders of bench/webhook.py registered;
signed-webhook forms as bench/webhook.py builds them, parsed and handed to
`WhatsAppChannel._converse`, the replies rendered as TwiML: the turn and the store with its
database thread, without aiohttp and the signature check. 32 messages at a time (one group commit
each for their starts and ends), 400 warm-up messages, then the measured ones. With --callgrind
the run goes under `valgrind --tool=callgrind --instr-atstart=no`, instrumentation switched on
(callgrind_control) for the measured messages only, and instructions per message are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AT_ONCE = 32
WARMUP = 400


async def measure(checkout: Path, messages: int, marks: Path | None) -> None:
    sys.path.insert(0, str(checkout))
    sys.path.insert(0, str(checkout / "bench"))
    os.chdir(checkout)
    from urllib.parse import parse_qsl

    import webhook
    import yaml
    os.environ.update(webhook.env())
    from bot.app import build_dialogue, build_knowledge
    from bot.channels.whatsapp import WhatsAppChannel, twiml
    from bot.evaluation import load_questions
    from bot.store import Store

    questions = [q.text for q in load_questions(webhook.SAMPLE)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-turn-"))
    data = yaml.safe_load((checkout / "config.example.yaml").read_text())
    data["content_dir"] = str(checkout / "content")
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    db = tmp / "bench.sqlite3"
    await webhook.register(db, config)
    knowledge = build_knowledge(config, os.environ)
    forms = [dict(parse_qsl(body.decode())) for body, _ in webhook.build_requests(WARMUP + messages, questions, 0)]
    async with Store.open(db) as store:
        channel = WhatsAppChannel(knowledge.settings, build_dialogue(knowledge, store), store)

        async def turn(form: dict[str, str]) -> str:
            message = channel.parse(form)
            assert message is not None
            return twiml(await channel._converse(message))

        async def run(batch: list[dict[str, str]]) -> None:
            for i in range(0, len(batch), AT_ONCE):
                await asyncio.gather(*(turn(f) for f in batch[i:i + AT_ONCE]))

        await run(forms[:WARMUP])
        if marks is not None:   # the parent switches callgrind's instrumentation on meanwhile
            (marks / "start").touch()
            time.sleep(5)   # noqa: ASYNC251 (nothing may run while callgrind is switched)
        cpu = time.process_time()
        await run(forms[WARMUP:])
        cpu = time.process_time() - cpu
        if marks is not None:
            (marks / "end").touch()
            time.sleep(5)   # noqa: ASYNC251 (nothing may run while callgrind is switched)
    print(f"{checkout}: {messages} messages, CPU {cpu / messages * 1e6:.0f} us per message"
          + (" (under valgrind)" if marks is not None else ""))


def under_callgrind(checkout: Path, messages: int) -> None:
    marks = Path(tempfile.mkdtemp(prefix="bench-turn-marks-"))
    out = marks / "callgrind.out"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                             sys.executable, str(Path(__file__).resolve()), str(checkout), "--messages",
                             str(messages), "--marks", str(marks)], stderr=subprocess.DEVNULL)
    for mark, switch in (("start", "on"), ("end", "off")):
        while not (marks / mark).exists():
            if proc.poll() is not None:
                sys.exit(f"the measured run stopped early ({proc.returncode})")
            time.sleep(0.5)
        subprocess.run(["callgrind_control", "-i", switch, str(proc.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    proc.wait()
    totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        sys.exit(f"no totals in {out}")
    print(f"{checkout}: {int(totals.group(1)) / messages / 1e6:.2f} M instructions per message "
          f"(callgrind, every thread, {messages} messages)")


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkout", nargs="?", type=Path, default=HERE.parent)
    parser.add_argument("--messages", type=int, default=640)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--marks", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    if args.callgrind:
        under_callgrind(checkout, args.messages)
    else:
        asyncio.run(measure(checkout, args.messages, args.marks))


if __name__ == "__main__":
    cli()
