"""Sentence templates in the hassil style: "(pay|settle) [my] bill [for {amount}]".

``(a|b)`` is a choice, ``[a]`` is optional, ``{slot}`` stands for a spoken value. Expansion is
capped so that one careless template cannot blow up the index.
"""
from __future__ import annotations

import itertools

MAX_EXPANSIONS = 400


class TemplateError(ValueError):
    pass


def expand(template: str) -> list[str]:
    """All plain sentences a template stands for, spaces normalised."""
    parsed, end = _parse(template, 0, "")
    if end != len(template):
        raise TemplateError(f"unbalanced brackets in template {template!r}")
    out = []
    for words in itertools.islice(_generate(parsed), MAX_EXPANSIONS):
        sentence = " ".join(words.split())
        if sentence and sentence not in out:
            out.append(sentence)
    return out


def _parse(text: str, i: int, closer: str) -> tuple[list, int]:
    """Returns (alternatives, index after closer); each alternative is a list of parts."""
    alternatives: list[list] = [[]]
    buf = ""
    while i < len(text):
        ch = text[i]
        if ch in "([":
            if buf:
                alternatives[-1].append(buf)
                buf = ""
            inner, i = _parse(text, i + 1, ")" if ch == "(" else "]")
            if ch == "[":
                inner = inner + [[""]]
            alternatives[-1].append(inner)
            continue
        if ch == "|" and closer:
            alternatives[-1].append(buf)
            buf = ""
            alternatives.append([])
        elif ch in ")]":
            if ch != closer:
                raise TemplateError(f"unexpected {ch!r} in template {text!r}")
            alternatives[-1].append(buf)
            return alternatives, i + 1
        else:
            buf += ch
        i += 1
    if closer:
        raise TemplateError(f"missing {closer!r} in template {text!r}")
    alternatives[-1].append(buf)
    return alternatives, i


def _generate(alternatives: list):
    for alt in alternatives:
        yield from _generate_seq(alt)


def _generate_seq(parts: list):
    if not parts:
        yield ""
        return
    head, rest = parts[0], parts[1:]
    heads = [head] if isinstance(head, str) else list(itertools.islice(_generate(head),
                                                                       MAX_EXPANSIONS))
    for h in heads:
        for r in _generate_seq(rest):
            yield f"{h}{r}"
