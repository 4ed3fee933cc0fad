"""Closed vocabularies of offering and need attributes, and their bitmask encodings.

Set-valued attributes (schedule, delivery, populations, languages) become integer bitmasks so
that "offers any of these" is one vectorized `&` over all candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

# The one definition of each closed list: the API schemas (`Literal[*SCHEDULES]`, enum in this
# order), the HSDS import and export, and the ranker's bitmasks (bit i is the i-th value).
SCHEDULES = ("during_school", "after_school", "weekends", "summer")
DELIVERIES = ("at_school", "at_partner_site", "virtual")
POPULATIONS = (
    "title_i",
    "english_learners",
    "students_with_disabilities",
    "rural",
    "foster_youth",
    "homeless",
    "newcomers",
    "low_income",
)
LOCALES = ("city", "suburb", "town", "rural")

COST_KINDS = ("free", "sliding_scale", "fee")

# Cost kinds, stored as small ints; None (unknown) is 0, then COST_KINDS in order.
COST_UNKNOWN, COST_FREE, COST_SLIDING, COST_FEE = 0, 1, 2, 3
COST_CODES: dict[str | None, int] = {
    None: COST_UNKNOWN,
    **{kind: code for code, kind in enumerate(COST_KINDS, 1)},
}

VIRTUAL_BIT = 1 << DELIVERIES.index("virtual")
AT_SCHOOL_BIT = 1 << DELIVERIES.index("at_school")

POPULATION_NAMES = {
    "title_i": "Title I schools",
    "english_learners": "English learners",
    "students_with_disabilities": "students with disabilities",
    "rural": "rural students",
    "foster_youth": "foster youth",
    "homeless": "students experiencing homelessness",
    "newcomers": "newcomers",
    "low_income": "low-income students",
}

# Display names for the languages most often spoken by US K-12 families; others show their code.
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "zh": "Chinese",
    "yue": "Cantonese",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "tl": "Tagalog",
    "ko": "Korean",
    "ru": "Russian",
    "ht": "Haitian Creole",
    "pt": "Portuguese",
    "fr": "French",
    "so": "Somali",
    "hmn": "Hmong",
    "am": "Amharic",
    "ti": "Tigrinya",
    "fa": "Persian",
    "ps": "Pashto",
    "uk": "Ukrainian",
    "sw": "Swahili",
    "mam": "Mam",
    "asl": "American Sign Language",
}

K = TypeVar("K")


def memo_map(column: Iterable[Any], encode: Callable[[Any], K]) -> list[K]:
    """encode() each value of a column, once per distinct value (columns repeat a lot)."""
    cache: dict[Hashable, K] = {}
    out: list[K] = []
    for value in column:
        try:
            hit = cache[value]
        except KeyError:
            hit = cache[value] = encode(value)
        except TypeError:  # unhashable (a list): key it by its tuple
            key = tuple(value)
            hit = cache[key] if key in cache else cache.setdefault(key, encode(value))
        out.append(hit)
    return out


def bitmask(values: Iterable[str], vocabulary: Sequence[str], field: str) -> int:
    """Bitmask of a set of codes from a closed vocabulary; an unknown code is a ValueError."""
    mask = 0
    for value in values:
        try:
            mask |= 1 << vocabulary.index(value)
        except ValueError:
            raise ValueError(
                f"{field}: unknown value {value!r}; expected one of {vocabulary}"
            ) from None
    return mask


def encode_sets(
    column: Sequence[Collection[str]], vocabulary: Sequence[str], field: str, dtype: Any
) -> np.ndarray:
    """Bitmask per row of a set-valued column over a closed vocabulary."""
    masks = memo_map(column, lambda values: bitmask(values, vocabulary, field))
    return np.asarray(masks, dtype=dtype)


class LanguageCodes:
    """Append-only vocabulary of language codes (ISO 639-1/639-3), up to 256 of them.

    A code's bit never changes once assigned, so masks encoded earlier stay valid as the
    vocabulary grows. Only the index's writers (under its lock) add codes.
    """

    WORDS = 4  # 4 x 64 bits

    def __init__(self, codes: Iterable[str] = ("en",)) -> None:
        self._bits: dict[str, int] = {}
        for code in codes:
            self._bit(code, grow=True)

    def __len__(self) -> int:
        return len(self._bits)

    def _bit(self, code: str, *, grow: bool) -> int | None:
        bit = self._bits.get(code)
        if bit is None and grow:
            if len(self._bits) >= 64 * self.WORDS:
                raise ValueError(f"more than {64 * self.WORDS} distinct language codes")
            bit = self._bits[code] = len(self._bits)
        return bit

    def mask(self, codes: Iterable[str], *, grow: bool = False) -> np.ndarray:
        """(WORDS,) uint64 mask of the codes; unknown codes are skipped unless grow."""
        words = np.zeros(self.WORDS, dtype=np.uint64)
        for code in codes:
            bit = self._bit(code, grow=grow)
            if bit is not None:
                words[bit // 64] |= np.uint64(1 << (bit % 64))
        return words

    def offered(self, mask: np.ndarray | Sequence[int], code: str) -> bool:
        """Whether a (WORDS,) mask (or its words as ints) holds this code (an unknown code is
        held by none)."""
        bit = self._bits.get(code)
        return bit is not None and bool(int(mask[bit // 64]) >> (bit % 64) & 1)

    def encode(self, column: Sequence[Collection[str]], *, default: str = "en") -> np.ndarray:
        """(n, WORDS) uint64 masks; an empty set means the default language (English)."""
        distinct: list[np.ndarray] = []

        def slot(codes: Collection[str]) -> int:
            distinct.append(self.mask(codes or (default,), grow=True))
            return len(distinct) - 1

        slots = np.asarray(memo_map(column, slot), dtype=np.intp)
        if not distinct:
            return np.zeros((0, self.WORDS), dtype=np.uint64)
        return np.stack(distinct)[slots]


def any_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise "the two multi-word masks share a bit" over the last axis (broadcasts)."""
    # Only the words b uses can overlap: almost always just the first (64 languages), which
    # one reduce over b finds (rather than a test per word).
    used = np.bitwise_or.reduce(b.reshape(-1, b.shape[-1]), axis=0).tolist()
    overlap = None
    for word, bits in enumerate(used):
        if bits:
            hit = (a[..., word] & b[..., word]) != 0
            overlap = hit if overlap is None else overlap | hit
    if overlap is None:
        shape = np.broadcast(a[..., 0], b[..., 0]).shape  # np.broadcast_shapes costs more
        return np.zeros(shape, dtype=bool)
    return overlap


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)
