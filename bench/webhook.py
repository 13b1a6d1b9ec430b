"""WhatsApp webhook throughput: the real aiohttp app over loopback, beside a bare aiohttp ceiling.

Run: .venv/bin/python bench/webhook.py          (about 6 minutes; stops by itself)
Needs the benchmark extra: pyinstrument (only for the profile, taken when throughput < 500 msg/s).

Server (a child process, `python bench/webhook.py --serve real ...`): the shipped config with
whatsapp.verify_signature on, build_knowledge + build_dialogue + WhatsAppChannel + build_web_app +
build_outbox (outbox loop running), a fresh temporary SQLite file (WAL, synchronous=NORMAL, as
Store opens it), aiohttp AppRunner/TCPSite on 127.0.0.1 without an access log and logging at
INFO to a file, as `desa-imigrasi run` has them. On one core: the server process (every thread
of it) is pinned to CPU 0 and the load generator to CPU 1, when the machine has two. The 1,000
senders are registered beforehand (village set, greeted) so every message is a question to the
FAQ, as for a returning villager. Twilio's REST base URL points at a closed loopback port:
nothing leaves the machine. Two real servers: as shipped ("real"; the sample's questions repeat,
so most are decided from the matcher's cache, as a forwarded message would be) and with
matcher.cache_size 0 ("real-uncached": every message matched afresh).

Ceiling (`--serve bare`): aiohttp with one handler that reads the form (await request.post())
and returns a constant TwiML <Response><Message>…</Message></Response>; same client, same run.

Load generator (this process): one aiohttp ClientSession, keep-alive, `concurrency` workers
sending back to back; every request is a Twilio-style form (as tests/payloads/whatsapp/text.json)
from one of 1,000 senders, with a fresh MessageSid and a question from the sample file, signed
with twilio's RequestValidator.compute_signature (all requests built and signed before timing).
Per level: at most REQUESTS requests or SECONDS seconds, after a warm-up of 200 requests; ROUNDS
rounds, the servers alternating, and the median of each figure (the machine's speed varies).
Latency: from just before the POST to the full response body read. Server CPU: utime+stime of
the server process over the level (from /proc), divided by the messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import _util
import aiohttp
import yaml
from _util import ROOT, pct, rss_mib, table

PUBLIC = "https://desa-imigrasi.example.org"
ACCOUNT = "AC00000000000000000000000000000000"
TOKEN = "bench-auth-token-0000"
BOT_NUMBER = "whatsapp:+14155238886"
SENDERS = 1000
LEVELS = (1, 8, 16, 32, 64)
REQUESTS = 2000
SECONDS = 15.0
ROUNDS = 3
# real: as shipped; real-uncached: matcher.cache_size 0, so every message is matched afresh
# (the sample's questions repeat, and as shipped a repeat is decided from the cache).
MODES = ("bare", "real", "real-uncached")
WARMUP = 200
PROFILE_BELOW = 500.0        # msg/s: profile one run when the real app stays below this
SERVER_CPU: list[int] = []   # set when the machine has two CPUs: the server gets one of its own
SAMPLE = ROOT.parent / "shared/eval/sample_questions.yaml"
BARE_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Terima kasih, pertanyaan '
              'Anda sudah kami terima.</Message></Response>')


def env() -> dict[str, str]:
    return {**os.environ, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_WHATSAPP_FROM": BOT_NUMBER, "PUBLIC_BASE_URL": PUBLIC,
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}


# Server side (child process) ---------------------------------------------------------------------
async def serve(mode: str, port: int, config: Path, db: Path | str, profile: Path | None) -> None:
    from aiohttp import web

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cleanup = []
    if mode == "bare":
        async def whatsapp(request: web.Request) -> web.Response:
            await request.post()
            return web.Response(text=BARE_TWIML, content_type="application/xml")

        async def healthz(_: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_post("/whatsapp", whatsapp)
        app.router.add_get("/healthz", healthz)
    else:
        from bot.app import build_dialogue, build_knowledge, build_outbox
        from bot.channels.whatsapp import WhatsAppChannel
        from bot.models import Channel
        from bot.runtime import settle_heap
        from bot.server import build_web_app
        from bot.store import Store

        knowledge = build_knowledge(config, os.environ)
        store_cm = Store.open(db)
        store = await store_cm.__aenter__()
        dialogue = build_dialogue(knowledge, store)
        channel = WhatsAppChannel(knowledge.settings, dialogue, store)
        outbox = build_outbox(store, {Channel.WHATSAPP: channel})
        app = build_web_app([channel], store, knowledge.content.version)
        await channel.start()
        outbox_task = asyncio.create_task(outbox.run())
        settle_heap()   # as desa-imigrasi run does once started

        async def close_real() -> None:
            outbox_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await outbox_task
            await channel.stop()
            await store_cm.__aexit__(None, None, None)
        cleanup.append(close_real)
    runner = web.AppRunner(app, access_log=None)   # as bot/runtime.py runs it
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
    await stop.wait()
    if profiler is not None:
        session = profiler.stop()
        profile.write_text(flat_profile(session))
    await runner.cleanup()
    for fn in cleanup:
        await fn()


def flat_profile(session, top: int = 25) -> str:  # type: ignore[no-untyped-def]
    """Self time and inclusive time per function, from a pyinstrument session."""
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    root = session.root_frame()
    total = root.time if root else 0.0

    def key(frame) -> str:  # type: ignore[no-untyped-def]
        where = frame.file_path_short or frame.file_path or ""
        return f"{frame.function}  {where}:{frame.line_no or ''}"

    def walk(frame, on_stack: frozenset[str]) -> None:  # type: ignore[no-untyped-def]
        # Self time = the frame's time minus its real callees' ("[self]" children hold it).
        k = key(frame)
        callees = [c for c in frame.children if c.identifier != "[self]"]
        self_t[k] += frame.time - sum(c.time for c in callees)
        if k not in on_stack:
            incl[k] += frame.time
        for child in callees:
            walk(child, on_stack | {k})

    if root is not None:
        walk(root, frozenset())
    lines = [f"profiled wall time in the server's main thread: {total:.2f} s"
             f" (includes idle time waiting in the event loop's select)",
             "", f"top {top} by self time:"]
    lines += [f"  {t:7.3f} s {t / total:6.1%}  {k}" for k, t in self_t.most_common(top)]
    lines += ["", f"top {top} by inclusive time:"]
    lines += [f"  {t:7.3f} s {t / total:6.1%}  {k}" for k, t in incl.most_common(top)]
    return "\n".join(lines)


# Load generator -----------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_requests(count: int, questions: list[str], sid_start: int) -> list[tuple[bytes, str]]:
    from twilio.request_validator import RequestValidator
    validator = RequestValidator(TOKEN)
    out = []
    for n in range(count):
        i = sid_start + n
        number = f"+62812{i % SENDERS:07d}"
        sid = f"SM{i:032x}"
        form = {
            "SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Warga", "MessageType": "text",
            "SmsSid": sid, "WaId": number[1:], "SmsStatus": "received",
            "Body": questions[(i // SENDERS + i * 7) % len(questions)], "To": BOT_NUMBER,
            "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": ACCOUNT,
            "From": f"whatsapp:{number}", "ApiVersion": "2010-04-01",
        }
        out.append((urlencode(form).encode(), validator.compute_signature(PUBLIC + "/whatsapp", form)))
    return out


async def drive(port: int, requests: list[tuple[bytes, str]], concurrency: int, seconds: float,
                marker: str) -> dict[str, object]:
    url = f"http://127.0.0.1:{port}/whatsapp"
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limited = 0
    it = iter(requests)
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal limited
            for body, sig in it:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers={
                        "X-Twilio-Signature": sig,
                        "Content-Type": "application/x-www-form-urlencoded"}) as resp:
                    text = await resp.text()
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[resp.status] += 1
                limited += marker in text

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"n": len(latencies), "elapsed": elapsed, "rate": len(latencies) / elapsed,
            "p50": pct(latencies, 50), "p99": pct(latencies, 99), "statuses": dict(statuses),
            "limited": limited}


async def wait_ready(port: int, proc: subprocess.Popen[bytes], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


def start_server(mode: str, port: int, config: Path, db: Path | str, log: Path,
                 profile: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", mode, "--port", str(port),
           "--config", str(config), "--db", str(db)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    if SERVER_CPU:
        cmd += ["--cpu", str(SERVER_CPU[0])]
    return subprocess.Popen(cmd, env=env(), cwd=str(ROOT), stdout=subprocess.DEVNULL,
                            stderr=log.open("ab"))


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def register(db: Path | str, config: Path) -> None:
    import datetime as dt

    from bot.app import build_knowledge
    from bot.models import Channel, Sender
    from bot.store import Store
    villages = [v.id for v in build_knowledge(config, env()).settings.villages]
    now = dt.datetime.now(dt.UTC)
    async with Store.open(db) as store:
        for i in range(SENDERS):
            await store.save_profile(Sender(Channel.WHATSAPP, f"whatsapp:+62812{i:07d}"),
                                     village_id=villages[i % len(villages)], greeted=True, now=now)


async def run_levels(mode: str, port: int, proc: subprocess.Popen[bytes], batches: list[list[tuple[bytes, str]]],
                     marker: str) -> list[dict[str, object]]:
    await drive(port, batches[0], 8, SECONDS, marker)   # warm-up
    results = []
    for level, batch in zip(LEVELS, batches[1:], strict=True):
        cpu0 = cpu_seconds(proc.pid)
        r = await drive(port, batch, level, SECONDS, marker)
        r["cpu_ms"] = (cpu_seconds(proc.pid) - cpu0) * 1000 / max(int(r["n"]), 1)  # type: ignore[arg-type]
        r["rss"] = rss_mib(proc.pid)
        r["level"] = level
        r["mode"] = mode
        results.append(r)
    return results


async def main() -> None:
    from bot.evaluation import load_questions
    questions = [q.text for q in load_questions(SAMPLE)]
    marker = "Pesan Anda terlalu banyak"   # start of messages.yaml rate_limited
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    data["content_dir"] = str(ROOT / "content")
    data.setdefault("whatsapp", {})["verify_signature"] = True
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    data.setdefault("matcher", {})["cache_size"] = 0
    uncached = tmp / "config-uncached.yaml"
    uncached.write_text(yaml.safe_dump(data, allow_unicode=True))
    db = tmp / "bench.sqlite3"
    await register(db, config)
    log = tmp / "server.log"
    sizes = [WARMUP] + [REQUESTS] * len(LEVELS)
    runs = ROUNDS * len(MODES)
    starts = list(itertools.accumulate([0, *sizes * runs]))
    # Fresh MessageSids for every server of every round: a repeated one is answered as a redelivery.
    batches_of = [[build_requests(n, questions, starts[r * len(sizes) + i]) for i, n in enumerate(sizes)]
                  for r in range(runs)]

    print("Configuration")
    cpus = f"server pinned to CPU {SERVER_CPU[0]}, load generator to CPU {min(os.sched_getaffinity(0))}" \
        if SERVER_CPU else "not pinned (fewer than two CPUs)"
    print(f"  machine: {_util.machine()}; one process each for server and load generator: {cpus}")
    print(f"  aiohttp {aiohttp.__version__}; server: {sys.executable} bench/webhook.py --serve real|bare")
    print(f"  senders: {SENDERS} distinct WhatsApp numbers, pre-registered (village set, greeted)")
    print(f"  questions: {len(questions)} from {SAMPLE.relative_to(ROOT.parent)}, rotated over senders")
    print(f"  signature check: on (X-Twilio-Signature against {PUBLIC}/whatsapp)")
    print(f"  levels: concurrency {LEVELS}; per level at most {REQUESTS} requests or {SECONDS:.0f} s;"
          f" warm-up {WARMUP} requests at concurrency 8")
    print(f"  servers: {MODES}; real-uncached = the real app with matcher.cache_size 0")
    print(f"  rounds: {ROUNDS}, the servers alternating, each started afresh; the table gives"
          f" each figure's median over the rounds and the range of msg/s (this machine is a shared VM)")
    print(f"  database: fresh temporary SQLite file {db}; server log at INFO: {log}")

    results: list[dict[str, object]] = []
    for number in range(1, ROUNDS + 1):
        for mode in MODES:
            batches = batches_of.pop()
            port = _util.free_port()
            proc = start_server("bare" if mode == "bare" else "real", port,
                                uncached if mode == "real-uncached" else config, db, log)
            try:
                await wait_ready(port, proc)
                startup_rss = rss_mib(proc.pid)
                results += await run_levels(mode, port, proc, batches, marker)
                print(f"  round {number}: {mode} server RSS after start-up: {startup_rss:.1f} MiB")
            finally:
                stop_server(proc)

    rows = []
    for mode, level in itertools.product(MODES, LEVELS):
        runs = [r for r in results if r["mode"] == mode and r["level"] == level]
        rates = [float(r["rate"]) for r in runs]  # type: ignore[arg-type]
        bad: Counter[int] = Counter()
        for r in runs:
            bad.update({k: v for k, v in r["statuses"].items() if k != 200})  # type: ignore[union-attr]

        def med(key: str, runs: list[dict[str, object]] = runs) -> float:
            return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
        rows.append([mode, level, sum(int(r["n"]) for r in runs), f"{med('rate'):.0f}",  # type: ignore[call-overload]
                     f"{min(rates):.0f}-{max(rates):.0f}", f"{med('p50'):.2f}", f"{med('p99'):.2f}",
                     f"{med('cpu_ms'):.2f}", f"{med('rss'):.0f}", dict(bad) or "-",
                     sum(int(r["limited"]) for r in runs)])  # type: ignore[call-overload]
    print()
    print(table(["server", "concurrency", "messages", "msg/s", "msg/s range", "p50 ms", "p99 ms",
                 "server CPU ms/msg", "server RSS MiB", "non-200", "rate-limited"], rows))

    best = max(float(r["rate"]) for r in results if r["mode"] == "real")  # type: ignore[arg-type]
    if best < PROFILE_BELOW:
        print(f"\nThe real app peaked at {best:.0f} msg/s (< {PROFILE_BELOW:.0f}): profiling one run "
              f"(pyinstrument, 1 ms sampling, server main thread, concurrency 32, {REQUESTS} requests).")
        port = _util.free_port()
        prof = tmp / "profile.txt"
        extra = build_requests(REQUESTS, questions, starts[-1])
        proc = start_server("real", port, config, db, log, profile=prof)
        try:
            await wait_ready(port, proc)
            r = await drive(port, extra, 32, SECONDS, marker)
            print(f"  profiled run: {r['n']} messages, {r['rate']:.0f} msg/s, p50 {r['p50']:.2f} ms, "
                  f"p99 {r['p99']:.2f} ms (slower than unprofiled: sampling overhead)")
        finally:
            stop_server(proc)
        print(prof.read_text() if prof.exists() else "  (no profile written)")
    _util.log_summary("server", log)


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=("real", "bare"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--db", help="a SQLite file or a database URL (bench/instances.py: PostgreSQL)")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU")
    args = parser.parse_args()
    if args.serve and args.cpu is not None:
        # Before any thread starts, so aiosqlite's thread shares the server's one core.
        os.sched_setaffinity(0, {args.cpu})
    if args.serve:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        asyncio.run(serve(args.serve, args.port, args.config, args.db, args.profile))
    else:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) >= 2:
            SERVER_CPU.append(cpus[0])
            os.sched_setaffinity(0, {cpus[1]})
        asyncio.run(main())


if __name__ == "__main__":
    cli()
