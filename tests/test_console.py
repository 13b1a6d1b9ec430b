"""The terminal chat, scripted through a pipe as an office would try it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.databases import database

SCRIPT = """halo
paspor sy ilang di kuching
lapor
sutra
Pak Budi 0812-3456-7890 dari PT Maju Jaya ajak kerja restoran di Malaysia, gaji 4 juta
Ditawari lewat Facebook.
selesai
fb
1 2
2
1
petugas> KASUS
petugas> TANGANI KTG-2026-1
menu
cek laporan KTG-2026-0001 000000
"""


def test_a_scripted_chat_files_a_report_and_shows_the_officer_alert(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(database(db))], input=SCRIPT,
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Laporan Anda tercatat dengan nomor KTG-2026-0001" in out
    assert "[petugas KTG] 🚨 LAPORAN BARU KTG-2026-0001" in out
    assert "Pelapor: anonim" in out
    assert "DITANGANI" in out
    assert "Kode cek Anda" in out and "tidak cocok" in out   # a wrong code learns nothing
    unanswered = subprocess.run([sys.executable, "-m", "bot", "unanswered", "--db", str(database(db))],
                                capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert unanswered.returncode == 0


VILLAGER_DAY = """tolong kakak sy dikurung majikan di kuching hp nya diambil
2
temajuk
sambas
kakak sy kerja di restoran, dibawa agen namanya Pak Ujang lewat jalan tikus
udah
👍
iya
petugas> bantuan
petugas> 1
terimakasih bah
"""


def test_a_day_of_villager_typing_in_the_terminal(tmp_path: Path) -> None:
    """Danger first, a village outside the list, everyday words, and the officer's side, piped in."""
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(database(tmp_path / "day.sqlite3"))],
                            input=VILLAGER_DAY, capture_output=True, text=True, cwd=ROOT, timeout=120,
                            check=False)
    out = result.stdout
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "polisi 110" in out and "KJRI Kuching" in out
    assert 'Desa "temajuk" belum termasuk Desa Imigrasi' in out
    assert "Laporan Anda tercatat dengan nomor SBS-2026-0001" in out
    assert "[petugas SBS] 🚨 LAPORAN BARU SBS-2026-0001" in out and "Orang dalam bahaya saat ini" in out
    assert "Nama: -" in out and "namanya Pak Ujang lewat jalan tikus" in out and "Lewat jalur tidak resmi" in out
    assert "Perintah petugas" in out and "DITANGANI oleh petugas Kantor Imigrasi Kelas II TPI Sambas" in out
    assert "[kabar] Laporan SBS-2026-0001 sudah diterima" in out and "Sama-sama" in out
    assert "GANTI" not in out


TWO_VILLAGES = """lapor
semuntai
agen Pak Budi 0812 3456 7890 ajak kerja di kuching, suruh bayar dulu 5 juta
selesai
fb
gak ada
iya
kirim
warga2> syarat bikin paspor apa aja
warga2> lapor
warga2> bungkang
warga2> ada calo nawarin kerja sawit di sarawak lewat jalan tikus
petugas SGU> TANGANI SGU-2026-1
petugas> KASUS
petugas XYZ> KASUS
"""


def test_two_villagers_and_a_named_office_in_one_terminal(tmp_path: Path) -> None:
    """'warga2>' is another villager with a village of its own; 'petugas SGU>' speaks for that office."""
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(database(tmp_path / "two.sqlite3"))],
                            input=TWO_VILLAGES, capture_output=True, text=True, cwd=ROOT, timeout=120,
                            check=False)
    out = result.stdout
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "Laporan Anda tercatat dengan nomor SGU-2026-0001" in out
    assert "[bot → warga2] Untuk membuat paspor baru" in out
    assert "Desa Anda tercatat Bungkang" in out   # warga2's own village, not the first villager's
    assert "[kabar] Laporan SGU-2026-0001 sudah diterima" in out   # the first villager hears, not warga2
    assert "[kabar warga2]" not in out
    # "petugas>" after warga2 is the officer of warga2's office (Entikong): SGU's case is not listed there.
    assert "Tidak ada kasus terbuka" in out
    assert "Kantor itu tidak ada di konfigurasi" in out and "SGU" in out.split("Kantor itu")[-1]
