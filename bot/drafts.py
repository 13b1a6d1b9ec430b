"""Turning a frequent unanswered question into a draft FAQ entry file for an editor to complete."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml


def slug(text: str) -> str:
    words = re.sub(r"[^a-z0-9 ]+", "", text.lower()).split()[:5]
    return "-".join(words) or "pertanyaan"


def write_draft(content_dir: Path, question: str) -> Path:
    """A YAML file under content/drafts/ with every field an entry needs, marked GANTI."""
    folder = content_dir / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug(question)}.yaml"
    entry = {
        "id": f"GANTI-{slug(question)}",
        "category": "GANTI: paspor, kerja, bahaya atau bantuan",
        "question": "GANTI: pertanyaan baku",
        "phrasings": [question] + ["GANTI: cara lain warga mengetik pertanyaan ini"] * 5,
        "answer": "GANTI: jawaban singkat, langkah bernomor, paling banyak 900 huruf",
        "source": ["GANTI: peraturan atau halaman resmi sumber jawaban"],
        "reviewed": dt.date.today().isoformat(),
    }
    header = ("# Draft from `desa-imigrasi unanswered`: complete every GANTI, then move the entry\n"
              "# into a file under content/faq/ and run `desa-imigrasi check-content`.\n")
    path.write_text(header + yaml.safe_dump({"entries": [entry]}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path
