"""Ranking reasons in the visitor's language. `matching.explain` writes them in English from a
fixed set of phrases joined by ", " (the warnings after " — ", by "; "); each phrase is a msgid
of the labels catalog with its values as %(name)s, so a page reads the phrase back, translates
it and its values (category and language names), and leaves any phrase it does not know as it
came (English beats a wrong translation)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# The lead phrase names a need (a taxonomy name, which may hold commas); the others do not.
LEADS = (
    "Meets your top need: %(need)s",
    "Meets your priority-%(priority)s need: %(need)s",
    "Offers your top need: %(need)s",
    "Offers your priority-%(priority)s need: %(need)s",
    "Related to your top need: %(need)s (via %(via)s)",
    "Related to your priority-%(priority)s need: %(need)s (via %(via)s)",
    "Related to your top need: %(need)s",
    "Related to your priority-%(priority)s need: %(need)s",
    "Needs related to %(need)s (priority %(priority)s)",
    "Needs %(need)s (priority %(priority)s)",
    "No needs assessment on file",
)
PHRASES = (
    "virtual",
    "serves your area (%(km)s km)",
    "serves your area (about %(km)s km from an approximate location)",
    "%(km)s km",
    "about %(km)s km from an approximate location",
    "free",
    "sliding scale",
    "fee %(amount)s",
    "fee",
    "cost unknown",
    "serves %(grades)s",
    "high need (%(index)s)",
    "moderate need (%(index)s)",
    "lower need (%(index)s)",
    "need unknown",
    "past partner of this school",
    "past partner of this school and 1 other school",
    "past partner of this school and %(n)s other schools",
    "past partner of 1 school",
    "past partner of %(n)s schools",
)
WARNINGS = (
    "not active on %(date)s",
    "at capacity",
    "serves %(offered)s, not %(wanted)s",
    "not offered in %(languages)s",
    "does not say whether it is offered in %(languages)s",
    "schedule differs from the one preferred",
    "delivery differs from the one preferred",
    "fewer seats left than students affected",
)
GRADES = ("grade %(grade)s", "grades %(low)s\u2013%(high)s")
SPOKEN = re.compile(r" \((?P<language>[A-Z][A-Za-z ]+)\)$")
MORE = re.compile(r" and (?P<n>\d+) more needs?$")
APPROX = r"(about [0-9.]+ km from an approximate location|[0-9.]+ km)"
WHERE = re.compile(rf"^(virtual|serves your area \({APPROX}\)|{APPROX})$")
THOUSANDS = re.compile(r"^[0-9]{3}\b")
VALUE = {
    "need": r".+?",
    "via": r".+?",
    "km": r"[0-9.]+",
    "index": r"[0-9.]+",
    "priority": r"[0-9]+",
    "n": r"[0-9]+",
}

Translate = Callable[[str], str]


@dataclass(frozen=True)
class Phrase:
    msgid: str
    pattern: re.Pattern[str]


@lru_cache(maxsize=len(LEADS) + len(PHRASES) + len(WARNINGS) + len(GRADES))
def _phrase(msgid: str) -> Phrase:
    pieces = re.split(r"%\((\w+)\)s", msgid)
    regex = "".join(
        re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>{VALUE.get(piece, r'[^;]+?')})"
        for i, piece in enumerate(pieces)
    )
    return Phrase(msgid, re.compile(f"^{regex}$"))


def _match(text: str, msgids: tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
    for msgid in msgids:
        found = _phrase(msgid).pattern.match(text)
        if found:
            return msgid, found.groupdict()
    return None


def translate_reason(text: str, gettext: Translate, name: Translate) -> str:
    """`text` with each phrase it knows in the catalog's language; `name` translates a
    category's or a language's English name."""
    return _parts(text, gettext, name, known=None)


def unknown_phrases(text: str) -> list[str]:
    """The phrases of a reason no msgid matches (a test keeps this empty for real reasons)."""
    unknown: list[str] = []
    _parts(text, lambda s: s, lambda s: s, known=unknown)
    return unknown


def _parts(text: str, gettext: Translate, name: Translate, known: list[str] | None) -> str:
    head, _, tail = text.partition(" \u2014 ")
    out = _head(head, gettext, name, known)
    if tail:
        warned = [_one(w, WARNINGS, gettext, name, known) for w in tail.split("; ")]
        out += " \u2014 " + "; ".join(warned)
    return out


def _head(head: str, gettext: Translate, name: Translate, known: list[str] | None) -> str:
    parts: list[str] = []
    for part in head.split(", "):
        if parts and THOUSANDS.match(part) and "$" in parts[-1]:
            parts[-1] += "," + part  # "fee $1,200" is one phrase
        else:
            parts.append(part)
    cut = next((i for i, p in enumerate(parts) if i and WHERE.match(p)), len(parts))
    lead = ", ".join(parts[:cut])
    return ", ".join(
        [_lead(lead, gettext, name, known)]
        + [_one(p, PHRASES, gettext, name, known) for p in parts[cut:]]
    )


def _lead(lead: str, gettext: Translate, name: Translate, known: list[str] | None) -> str:
    suffix = ""
    more = MORE.search(lead)
    if more:
        lead = lead[: more.start()]
        n = int(more["n"])
        suffix = gettext(" and %(n)s more need" if n == 1 else " and %(n)s more needs") % {"n": n}
    spoken = SPOKEN.search(lead)
    if spoken:
        lead = lead[: spoken.start()]
        suffix = f" ({name(spoken['language'])})" + suffix
    return _one(lead, LEADS, gettext, name, known) + suffix


def _one(
    text: str, msgids: tuple[str, ...], gettext: Translate, name: Translate, known: list[str] | None
) -> str:
    found = _match(text, msgids)
    if found is None:
        if known is not None:
            known.append(text)
        return text
    msgid, values = found
    return gettext(msgid) % {k: _value(k, v, gettext, name, known) for k, v in values.items()}


def _value(
    key: str, value: str, gettext: Translate, name: Translate, known: list[str] | None
) -> str:
    if key in ("need", "via"):
        return name(value)
    if key == "languages":
        return gettext(" or ").join(name(v) for v in value.split(" or "))
    if key in ("grades", "offered", "wanted"):
        return _one(value, GRADES, gettext, name, known)
    return value
