"""Small helpers shared by the benchmark scripts (not part of the bot)."""

from __future__ import annotations

import os
import platform
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (same rule as bot.evaluation)."""
    if not values:
        return 0.0
    s = sorted(values)
    rank = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[rank]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} cores ({cpu})")


def rss_mib(pid: int | None = None) -> float:
    """Resident set size (VmRSS) in MiB, from /proc."""
    path = Path(f"/proc/{pid or 'self'}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_summary(label: str, log: Path) -> None:
    """How long a server's log grew, and its first ERROR or Traceback lines."""
    lines = log.read_text(errors="replace").splitlines()
    errors = [ln for ln in lines if " ERROR " in ln or "Traceback" in ln]
    print(f"\n{label} log: {len(lines)} lines, {len(errors)} ERROR/Traceback lines")
    for ln in errors[:5]:
        print(f"  {ln[:200]}")
