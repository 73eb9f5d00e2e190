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
    """One caller turn. No text and no keys means silence (the no-input timeout fired)."""

    text: str | None = None
    dtmf: str | None = None
    # Recognition confidence 0..1 from ASR; None for typed text (taken as certain).
    confidence: float | None = None

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

    def to_json(self) -> str:
        """The `voice-agent chat --json` line for this turn: exactly the contract's keys (issue 4);
        `slow` and `transfer` are for voice front ends and stay out of it."""
        data: dict[str, Any] = {"say": self.say, "lang": self.lang, "expecting": self.expecting,
                                "state": self.state, "ended": self.ended}
        if self.ended:
            data["outcome"] = self.outcome
        return json.dumps(data, ensure_ascii=False)
