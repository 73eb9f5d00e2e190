"""The typed messages into and out of the dialogue: what the caller did, what the agent says.

`CallerEvent` is one caller turn (typed or recognised text, keypad keys, or silence);
`AgentTurn` is the agent's answer to it. `Reply` is one prompt by key with its parameters: flows
produce replies, `prompts.py` renders them, so the dialogue itself never holds literal text.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CallerEvent:
    """One caller turn. No text and no keys means silence (the no-input timeout fired).

    Recognised speech carries what recognition found in it, as pipecat's TranscriptionFrame
    does: the value it parsed from `text` as `kind` (None: nothing of that kind) in language
    `lang`. The dialogue uses that value when the step asks for that kind in that language, so
    each value is parsed once. Typed text has no kind: the dialogue parses it itself.
    """

    text: str | None = None
    dtmf: str | None = None
    # Recognition confidence 0..1 from ASR; None for typed text (taken as certain).
    confidence: float | None = None
    value: Any = None
    kind: str | None = None
    lang: str | None = None

    def value_of(self, kind: str | None, lang: str) -> tuple[bool, Any]:
        """(True, value) when recognition parsed the text as `kind` in `lang`, else (False, None)."""
        if kind is not None and self.kind == kind and self.lang == lang:
            return True, self.value
        return False, None

    @property
    def is_silence(self) -> bool:
        return not (self.text or "").strip() and not (self.dtmf or "").strip()


@dataclass(frozen=True)
class Reply:
    """One prompt to say: a key in locales/<lang>/prompts.toml and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    # Say this one in another language than the call's (the language menu speaks each language).
    lang: str | None = None


@dataclass
class AgentTurn:
    """What the agent says and what it expects next."""

    say: str
    lang: str
    expecting: str
    state: str
    ended: bool = False
    outcome: str | None = None
    slow: bool = False
    transfer: str | None = None
    replies: tuple[Reply, ...] = ()
    # `say` as (language, text) runs for voices: the language menu says each option in its own
    # language. Their texts joined by spaces are `say`. Not in the chat --json contract.
    segments: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        """The `voice-agent chat --json` line for this turn: exactly the contract's keys (issue 4);
        `slow` and `transfer` are for voice front ends and stay out of it."""
        data: dict[str, Any] = {"say": self.say, "lang": self.lang, "expecting": self.expecting,
                                "state": self.state, "ended": self.ended}
        if self.ended:
            data["outcome"] = self.outcome
        return json.dumps(data, ensure_ascii=False)
