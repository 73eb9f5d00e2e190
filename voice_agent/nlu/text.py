"""Text normalisation shared by every matcher: one canonical form for caller words.

Vosk writes lowercase words without punctuation; typed chat lines have capitals, punctuation,
accents left out, "$12.50" and "12/28". Both end up as the same token list here. Accents are
folded (Spanish callers typing "manana" still mean "mañana") without touching Hangul, whose
syllables are recomposed by NFC after the marks are dropped.
"""
from __future__ import annotations

import re
import unicodedata

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_NOT_WORD = re.compile(r"[^\w\s'·]")
_DECIMAL_MARK = "·"  # survives punctuation stripping, turned back into "." below


def fold(text: str) -> str:
    """Lowercase, NFC, Latin accents removed (ñ -> n, é -> e); Hangul unchanged."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped)


def tokens(text: str) -> list[str]:
    """Words of ``text`` in canonical form: folded, punctuation gone, "12.50" kept whole."""
    text = fold(text)
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL.sub(_DECIMAL_MARK, text)
    text = text.replace("$", " $ ")
    text = _NOT_WORD.sub(" ", text.replace("_", " "))
    words = []
    for word in text.split():
        word = word.strip("'").replace(_DECIMAL_MARK, ".")
        if word:
            words.append(word)
    return words


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(tokens(phrase))


def remove_phrases(words: list[str], phrases: list[tuple[str, ...]],
                   keep: list[tuple[str, ...]] = ()) -> list[str]:
    """Drop every occurrence of the given token sequences (fillers, politeness), longest first.

    ``keep`` phrases are left whole even when made of fillers ("uh huh" means yes).
    """
    if not phrases:
        return words
    ordered = sorted(phrases, key=len, reverse=True)
    out: list[str] = []
    i = 0
    while i < len(words):
        kept = next((p for p in keep if p and tuple(words[i:i + len(p)]) == p), None)
        if kept:
            out.extend(kept)
            i += len(kept)
            continue
        for phrase in ordered:
            n = len(phrase)
            if n and tuple(words[i:i + n]) == phrase:
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out


def find_phrase(words: list[str], phrase: tuple[str, ...], start: int = 0) -> int:
    """Index where ``phrase`` starts in ``words`` at or after ``start``, or -1."""
    n = len(phrase)
    for i in range(start, len(words) - n + 1):
        if tuple(words[i:i + n]) == phrase:
            return i
    return -1
