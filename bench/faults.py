"""Random SIGKILLs while villagers report: counts of what was lost or doubled, over many trials.

Run: .venv/bin/python bench/faults.py [--trials 100] [--seed 16]    (about 8 s per trial)

Each trial (tests/faults_rigs.py `crash_trial`, the same code as the CI test in
tests/test_faults.py, which runs 8 of them): a fresh SQLite file; `python -m bot run` as a child
process with WhatsApp (signed webhook) and Telegram (webhook with its secret), both pointed at
fake providers on 127.0.0.1 (tests/fake_twilio.py, tests/fake_telegram.py); 3 WhatsApp and 2
Telegram villagers each register and file a whole contactable report; the office's officer
answers every alert that reaches the office's WhatsApp with TANGANI, which sends the reporter a
status update. Meanwhile the process is killed with SIGKILL 1 or 2 times at random moments and
started again; before a kill, one time in three the fake Twilio holds the answer to a message it
accepted, one time in three the fake Bot API holds the answer to a sendMessage it delivered, so
the process dies not knowing. Telegram delivers an update again until the webhook answers 200;
Twilio posts a webhook again while its connection fails (refused, or broken with no answer);
a villager waits up to 20 s for each answer.

Counted per trial, then summed: see `Tally` (tests/faults_rigs.py). A reply is lost when a
villager's message was taken and no answer came within 20 s; a report is lost when its case
number was shown to the villager and it is not in the database; a Telegram update is lost when
it was answered 200 and never handled; doubles are counted at the fake providers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import _util

# bench/telegram.py would shadow the telegram package the bot imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from tests.faults_rigs import Tally, crash_trial


async def main(trials: int, seed: int, verbose: bool) -> Tally:
    rng = random.Random(seed)
    total = Tally()
    started = time.monotonic()
    for trial in range(trials):
        with tempfile.TemporaryDirectory(prefix="faults-") as folder:
            t0 = time.monotonic()
            try:
                tally = await crash_trial(Path(folder), rng)
            except Exception:
                print(f"trial {trial} failed; the bot's log ends with:")
                print((Path(folder) / "bot.log").read_text()[-6000:])
                raise
            total.add(tally)
            if verbose or any(getattr(tally, name) for name in LOSSES):
                shown = {k: v for k, v in vars(tally).items() if v and k != "trials"}
                print(f"trial {trial:3d} ({time.monotonic() - t0:4.1f} s): {shown}", flush=True)
    print(f"\n{trials} trials, seed {seed}, {time.monotonic() - started:.0f} s; {_util.machine()}")
    print("\n".join(total.lines()))
    rate = total.tg_messages_doubled / total.tg_messages_sent if total.tg_messages_sent else 0.0
    print(f"Telegram messages sent twice: {total.tg_messages_doubled} of {total.tg_messages_sent} "
          f"({rate:.2%}), {total.tg_messages_doubled / max(1, total.kills):.2f} per kill")
    return total


LOSSES = ("reports_lost", "reports_doubled", "tg_updates_lost", "replies_lost", "villagers_out_of_step",
          "wa_alerts_doubled", "wa_alerts_missing", "wa_status_doubled", "cases_not_acknowledged")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--verbose", action="store_true", help="a line per trial")
    args = parser.parse_args()
    result = asyncio.run(main(args.trials, args.seed, args.verbose))
    raise SystemExit(1 if any(getattr(result, name) for name in LOSSES) else 0)
