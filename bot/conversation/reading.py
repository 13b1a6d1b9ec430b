"""Reading a villager's own words for what a report needs: phone, name, company, country, red flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

from bot.conversation.words import Words
from bot.reporting import Rules

_HONORIFIC = r"(?:pak|bu|bapak|ibu|bang|abang|mas|kak|mbak|om|tante|cik|encik|mr|mrs|ms)"
# "namanya Budi", "nama agennya: pak Budi Santoso"
_NAMED = re.compile(rf"\bnama(?:[ \t]*nya|[ \t]*ny|\w*)\b[ \t]*(?:adalah|ialah|:|=)?[ \t]*"
                    rf"((?:{_HONORIFIC}\.?[ \t]+)?[a-z][a-z'.-]+(?:[ \t]+[a-z][a-z'.-]+)?)", re.IGNORECASE)
# "agen pak joko", "calo bu sri": a lower-case title is a name when it follows who they are.
_ROLE_TITLED = re.compile(rf"\b(?:agen|agennya|calo|calonya|sponsor|tekong|perekrut|bos|tauke|toke|majikan)[ \t]+"
                          rf"({_HONORIFIC}[ \t]+[a-z]{{3,}})", re.IGNORECASE)
# "anak sy namanya siti": the name of the person taken, not of the recruiter.
_KIN = re.compile(r"\b(?:anak|adik|adek|kakak|abang|suami|istri|bini|ibu|ayah|bapak|keponakan|ponakan|cucu|"
                  r"saudara|teman|kawan|sy|saya|kamek|aku)\b\W+(?:\w+\W+)?$", re.IGNORECASE)
# "gak tau namanya", also typed as one word ("gatau", "gktau").
_NOT_KNOWN = re.compile(r"\b(?:tidak|tdk|gak|ga|gk|nggak|ndak|tak|blm|belum)\s*(?:tau|tahu)\W*$", re.IGNORECASE)
_PAY = re.compile(r"\b(?:minta|bayar|setor|transfer|kasih)\w*\s+(?:uang\s+|duit\s+)?(?:rp\.?\s*|rm\s*)?\d",
                  re.IGNORECASE)
# "Pak Budi" with a capital: a name, not "pak" said to the officer.
_TITLED = re.compile(r"\b((?:Pak|Bu|Bapak|Ibu|Bang|Abang|Mas|Kak|Mbak|Om|Cik|Encik)\.?[ \t]+"
                     r"[A-Z][a-z'-]+(?:[ \t]+[A-Z][a-z'-]+)?)")
_COMPANY = re.compile(r"\b(PT|CV|UD|LPK|P3MI|Yayasan|Sdn\.?\s*Bhd)\.?\s+([a-z0-9&'.-]+(?:\s+[a-z0-9&'.-]+){0,3})",
                      re.IGNORECASE)
_AGENCY = re.compile(r"\b(?:agen|agensi|agency)\s+([A-Z][A-Za-z0-9&'.-]+(?:\s+[A-Z][A-Za-z0-9&'.-]+){0,2})")
_WAGE = re.compile(r"\b(?:gaji|upah|digaji)\w*\s*(?:sebesar|sekitar|kira\W*kira|katanya|nya|:)?\s*"
                   r"((?:rp\.?|rm|ringgit)?\s*\d(?:[\d.,]*\d)?(?:\s*(?:juta|jt|ribu|rb|ringgit|rm|k)\b)?"
                   r"(?:\s*(?:per|/|se)\s*(?:bulan|bln|hari|minggu))?)", re.IGNORECASE)
# "umur 15", "umurnya baru 16", "usia kira2 14"; "adik sy 16 thn"; and a clause that is only an age,
# as a second message often is: "baru 16 thn", "msh 17" ("baru 2 thn kerja" is no age).
_YOUNG = r"(?:baru|br|masih|msh|cuma|cuman|hanya)"
_AGE_WORDS = rf"(?:{_YOUNG}|sekitar|kira\W*kira|kira2|sekarang|skrg|skrng|sudah|sdh|udah|udh|dah)"
_AGE = re.compile(rf"\b(?:umur|usia)(?:nya|ny)?\s*[:=]?\s*(?:{_AGE_WORDS}\s+){{0,2}}(\d{{1,2}})\b"
                  r"(?!\s*(?:bulan|bln|hari|minggu|mgg|juta|jt|ribu|rb|%))|"
                  r"\b(?:anak|adik|adek|ponakan|keponakan|cucu)\w*\b[^.\n]{0,25}?\b(\d{1,2})\s*(?:tahun|thn|th)\b|"
                  rf"(?:^|[.,;!?])[ \t]*(?:(?:dia|ia|anaknya|adiknya|adeknya)[ \t]+)?{_YOUNG}[ \t]+"
                  r"(\d{1,2})[ \t]*(?:tahun|thn|th)?[ \t]*(?=[.,;!?]|$)",
                  re.IGNORECASE | re.MULTILINE)
# "anak sy 3 masih sekolah": how many children the writer has, not the age of the one recruited;
# such a clause says nothing about who is under 18.
_CHILDREN = re.compile(r"\banak(?:[ \t]*-?[ \t]*anak|2)?[ \t]+(?:(?:saya|sy|kami|aku|kamek|kita)[ \t]+)?"
                       r"(?:ada[ \t]+)?(?:[1-4]|satu|dua|tiga|empat|lima|enam)\b"
                       r"(?![ \t]*(?:tahun|thn|th)\b)[^.,;\n]*", re.IGNORECASE)
# Words that end a name or a company name typed without punctuation.
_STOP = frozenset(["eh", "salah", "bukan", "nomornya", "tau", "tahu", "pasti", "lupa", "ingat", "kurang",
    "di", "yang", "dan", "dari", "ke", "untuk", "nawarin", "menawarkan", "nawarkan", "katanya", "gaji",
    "no", "nomor", "nomer", "hp", "wa", "mau", "itu", "tsb", "namanya", "nama", "dia", "ini", "ada",
    "kerja", "bekerja", "berangkat", "dengan", "dgn", "sama", "telp", "telepon", "tlp", "pt", "cv",
    "agen", "alamat", "lewat", "via", "terus", "trus", "lalu", "tapi", "tp", "jd", "jadi", "bilang",
    "minta", "suruh", "pak", "bu", "orangnya", "orang", "sy", "saya", "kami", "kamek", "aku", "yg",
    "utk", "dr", "ga", "gak", "tidak", "tdk", "nya", "ny"
])
_NOT_NAMES = frozenset(["nya", "ny",
    "saya", "sy", "aku", "kamek", "kami", "dia", "agen", "agennya", "orang", "orangnya", "perusahaan",
    "pt", "cv", "desa", "kampung", "kantor", "petugas", "tidak", "gak", "ga", "lupa"
])


@dataclass
class Reading:
    """What one message already says, as report answers (only fields it is sure of)."""

    answers: dict[str, str] = field(default_factory=dict)
    phone: str | None = None      # the recruiter's number in E.164
    wrong: tuple[str, ...] = ()   # numbers the text says are wrong ("bkn 0812…"), in E.164

    def __bool__(self) -> bool:
        return bool(self.answers)


def _trim(words: str) -> str:
    kept: list[str] = []
    for w in words.split():
        if w.lower().strip(".,") in _STOP:
            break
        kept.append(w.strip(".,"))
    return " ".join(kept)


# "no sy 0813…", "hp saya 0812…": the reporter's own number, never the recruiter's.
_OWN_NUMBER = re.compile(r"\b(?:no|nomor|nomer|hp|wa|telp|telepon)\W*(?:saya|sy|aku|ku|kamek|kami)\W*$|"
                         r"\b(?:saya|sy|aku|kamek)\W*$", re.IGNORECASE)


_NOT_THIS = re.compile(r"\b(?:bukan|bkn|bukannya|salah)\b[\s:,.-]*$", re.IGNORECASE)


@dataclass(frozen=True)
class _Number:
    """A phone number as it stands in a text."""

    match: phonenumbers.PhoneNumberMatch
    e164: str
    said_wrong: bool   # the words just before take it back: "bkn 0812…"


def _numbers(text: str) -> list[_Number]:
    """Every phone number in the text, in order."""
    return [_Number(m, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164),
                    bool(_NOT_THIS.search(text[max(0, m.start - 15):m.start])))
            for m in phonenumbers.PhoneNumberMatcher(text, "ID", leniency=phonenumbers.Leniency.POSSIBLE)]


def find_phone(text: str) -> tuple[str, str] | None:
    """(E.164, as typed) for the first phone number in the text that is not the writer's own.

    "eh bkn 0812 9999 8888, nomornya 0821 1111 2222": a number said to be wrong gives way to the next.
    """
    found = [n for n in _numbers(text) if not _OWN_NUMBER.search(text[max(0, n.match.start - 25):n.match.start])]
    # Said wrong once, wrong everywhere: a story's first message may give the number a later one takes back.
    said_wrong = {n.e164 for n in found if n.said_wrong}
    right = [(n.e164, n.match.raw_string) for n in found if n.e164 not in said_wrong]
    return right[0] if right else None


def corrects_number(text: str) -> bool:
    """The message says a number is wrong and gives another ("bkn 0812…, nomornya 0821…")."""
    numbers = _numbers(text)
    return len(numbers) > 1 and any(n.said_wrong for n in numbers)


def wrong_numbers(text: str) -> tuple[str, ...]:
    """The numbers (E.164) the text says are wrong: "eh bkn 0812 9999 8888, nomornya 0821…"."""
    numbers = _numbers(text)
    if len(numbers) < 2:
        return ()   # a number taken back without another given is no correction
    return tuple(n.e164 for n in numbers if n.said_wrong)


def mark_wrong(text: str, wrong: set[str], mark: str) -> str:
    """The text with `mark` after each number in `wrong`, but where the text itself says it is wrong."""
    if not wrong:
        return text
    parts, end = [], 0
    for n in _numbers(text):
        if n.e164 in wrong and not n.said_wrong:
            parts.append(f"{text[end:n.match.end]} {mark}")
            end = n.match.end
    return "".join(parts) + text[end:]


def find_company(text: str) -> str | None:
    start = 0
    while m := _COMPANY.search(text, start):
        name = _trim(m.group(2))
        # "PT nya PT Sinar Jaya": the first "PT" only introduces the name
        if name and name.lower() not in _NOT_NAMES:
            return f"{m.group(1).upper() if len(m.group(1)) <= 4 else m.group(1)} {name}".strip()
        start = m.start(2)
    m = _AGENCY.search(text)
    if m:
        return _trim(m.group(1)) or None
    return None


def find_name(text: str) -> str | None:
    for pattern in (_TITLED, _ROLE_TITLED, _NAMED):
        for m in pattern.finditer(text):
            before = text[:m.start()]
            if pattern is _NAMED and (_KIN.search(before) or _NOT_KNOWN.search(before)):
                continue   # "anak sy namanya siti": the victim; "gak tau namanya": no name
            words = m.group(1).split()
            title = words[0] if len(words) > 1 and re.fullmatch(_HONORIFIC, words[0], re.IGNORECASE) else ""
            name = _trim(" ".join(words[1:] if title else words))
            name = name.title() if name.islower() else name
            name = f"{title.capitalize()} {name}".strip() if name else ""
            if name and name.lower().split()[-1] not in _NOT_NAMES and \
                    not re.fullmatch(_HONORIFIC, name.split()[-1], re.IGNORECASE):
                return name
    return None


def read(text: str, rules: Rules, words: Words) -> Reading:
    """Every field the text states plainly; nothing guessed from a single vague word."""
    reading = Reading(wrong=wrong_numbers(text))
    phone = find_phone(text)
    if phone:
        reading.phone, reading.answers["telepon"] = phone
    if company := find_company(text):
        reading.answers["perusahaan"] = company
    if name := find_name(text):
        reading.answers["nama"] = name
    if _PAY.search(text):
        reading.answers["bayar"] = "ya"   # "minta 1jt", "suruh bayar 3 juta"
    if m := _WAGE.search(text):
        wage = m.group(1).strip(" ,.;")
        # "6 juta", "RM1500", "4.000.000": an amount; "gaji tidak dibayar 4 bulan" is not one
        if re.search(r"(juta|jt|ribu|rb|ringgit|rm|rp|k)\b|\d{3}", wage, re.IGNORECASE):
            reading.answers["gaji"] = wage
    for m in _AGE.finditer(text):
        age = int(m.group(1) or m.group(2) or m.group(3))
        if 5 <= age < 18:
            reading.answers["umur"] = "ya"
    tokens = words.tokens(text)
    without_children = words.tokens(_CHILDREN.sub(" . ", text))
    for question in rules.questions:
        if question.key in reading.answers:
            continue
        # "masih sekolah" of the writer's own children is no sign about the one recruited.
        said = without_children if question.key == "umur" else tokens
        for value, phrases in question.read.items():
            if any(says(said, words.tokens(p)) for p in phrases):
                reading.answers[question.key] = value
                break
    return reading



# Who a number or a name in an urgent story belongs to: the nearest of these words before it, in the
# same sentence. A recruiter word ties it to the recruiter ("yg bawa dia agen pak rudi 0813...");
# a word for the one in danger or the writer ("no anak sy 0812...", "hp sy") does not, nor does no
# word at all: in an urgent report a number is the victim's until the words say otherwise.
_RECRUITER_WORDS = frozenset(["agen", "agennya", "agent", "calo", "calonya", "sponsor", "sponsornya", "tekong",
    "perekrut", "perekrutnya", "penyalur", "bos", "bosnya", "tauke", "toke", "towkay", "majikan", "majikannya",
    "pelaku", "pelakunya", "germo", "mucikari"])
_VICTIM_WORDS = frozenset(["anak", "anaknya", "adik", "adiknya", "adek", "adeknya", "kakak", "kakaknya", "suami",
    "suaminya", "istri", "istrinya", "bini", "ayah", "ayahnya", "ponakan", "keponakan", "cucu", "saudara",
    "sodara", "teman", "kawan", "korban", "dia", "ia", "saya", "sy", "aku", "ku", "kamek", "kami", "gue", "gw"])
# Only this many words back: further away, a recruiter word says nothing about this number.
_TIE_WORDS = 8


def _tied(before: str) -> str | None:
    """The words from the recruiter word on, when the nearest person word before is a recruiter's."""
    sentence = re.split(r"[.!?\n]", before)[-1]
    found = list(re.finditer(r"\w+", sentence))[-_TIE_WORDS:]
    for m in reversed(found):
        word = m.group(0).lower()
        if word in _RECRUITER_WORDS:
            return sentence[m.end():]
        if word in _VICTIM_WORDS:
            return None
    return None


def read_recruiter(text: str) -> Reading:
    """The recruiter's name, phone and company in an urgent story: only what is tied to a recruiter word.

    A company (PT, agen Maju) is always the recruiter's or the employer's side, never the victim.
    """
    reading = Reading(wrong=wrong_numbers(text))
    taken_back: str | None = None   # what stood before a recruiter's number the villager took back
    for number in _numbers(text):
        match, e164 = number.match, number.e164
        after_role = _tied(text[:match.start])
        if e164 in reading.wrong:
            taken_back = after_role if after_role is not None else taken_back
            continue
        # "eh bkn 0813…, nomornya 0821…": the number given instead is the recruiter's, as the first was.
        after_role = after_role if after_role is not None else taken_back
        if after_role is None:
            continue
        reading.phone = e164
        reading.answers["telepon"] = match.raw_string
        # "agen pak rudi 0813...": what stands between the recruiter word and the number is the name.
        name = read_who(after_role).answers.get("nama") if len(after_role.split()) <= 4 else None
        if name and not {w.lower() for w in name.split()} & (_NOT_NAMES | _STOP - {"pak", "bu"}):
            reading.answers["nama"] = name
        break
    if "nama" not in reading.answers and (m := _ROLE_TITLED.search(text)):
        reading.answers["nama"] = " ".join(w.capitalize() for w in m.group(1).split())   # "dibawa calo bu sri"
    if company := find_company(text):
        reading.answers["perusahaan"] = company
    return reading


def read_urgent(text: str, rules: Rules, words: Words) -> Reading:
    """What an urgent story may fill: the signs, the country, the job and wage, and the recruiter when tied."""
    everything = read(text, rules, words)
    reading = Reading({k: v for k, v in everything.answers.items() if k not in ("nama", "telepon", "perusahaan")})
    recruiter = read_recruiter(text)
    reading.answers.update(recruiter.answers)
    reading.phone, reading.wrong = recruiter.phone, recruiter.wrong
    return reading


def read_who(text: str) -> Reading:
    """The answer to "who offered it": a phone, a company, and the rest of the words as the name."""
    reading = Reading(wrong=wrong_numbers(text))
    rest = text
    phone = find_phone(text)
    if phone:
        reading.phone, reading.answers["telepon"] = phone
        rest = rest.replace(phone[1], " ")
    if company := find_company(rest):
        reading.answers["perusahaan"] = company
        rest = re.sub(re.escape(company), " ", rest, flags=re.IGNORECASE)
        rest = re.sub(r"\b(PT|CV|UD|LPK|agen|agensi)\b\.?", " ", rest, flags=re.IGNORECASE)
    name = find_name(rest)
    if name is None:
        # What is left is the name, if it is short enough to be one ("Budi", "bang Anto").
        leftover = [w for w in re.sub(r"[^\w\s'.-]", " ", rest).split()
                    if (w.lower() not in _STOP or re.fullmatch(_HONORIFIC, w, re.IGNORECASE)) and not w.isdigit()]
        name = " ".join(leftover).strip(" .-").title() if 0 < len(leftover) <= 3 else None
    if name:
        reading.answers["nama"] = name[:80]
    return reading


# "paspor nanti dipegang agen" says "paspor dipegang": a phrase's words may stand this far apart.
_GAP = 3


def says(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """The phrase's words in order, each at most _GAP words after the one before."""
    if not phrase:
        return False
    for start, token in enumerate(tokens):
        if token != phrase[0]:
            continue
        at = start
        for word in phrase[1:]:
            window = tokens[at + 1:at + 2 + _GAP]
            if word not in window:
                break
            at = at + 1 + window.index(word)
        else:
            return True
    return False
