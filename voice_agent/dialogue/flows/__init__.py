"""The flows of a call, registered by name, by intent and by main-menu key.

To add a flow (issue 5: disputes, arrangements, ...): write a module here with a `Flow` subclass
(see `voice_agent.dialogue.flow`), list it in the module's `FLOWS`, add the module's name to
`FLOW_MODULES` and its prompt keys to every locales/<lang>/prompts.toml. The engine needs no change:
the main menu routes the flow's `intents` and `menu_key` to it, `needs_account = True` puts
verification in front of it (the request is remembered), and `interrupts = True` makes its intent
work at every step. A module listed later replaces an earlier flow registered for the same intent
(e.g. a callback flow replacing `handoff` for "agent").
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable

from voice_agent.dialogue.flow import Flow

FLOW_MODULES = (
    "voice_agent.dialogue.flows.language",
    "voice_agent.dialogue.flows.menu",
    "voice_agent.dialogue.flows.verify",
    "voice_agent.dialogue.flows.handoff",
    "voice_agent.dialogue.flows.balance",
    "voice_agent.dialogue.flows.explain",
    "voice_agent.dialogue.flows.payment",
    # Issue 5: more of what callers call about (callback replaces handoff for "agent").
    "voice_agent.dialogue.flows.summary",
    "voice_agent.dialogue.flows.method",
    "voice_agent.dialogue.flows.dispute",
    "voice_agent.dialogue.flows.arrangement",
    "voice_agent.dialogue.flows.schedule",
    "voice_agent.dialogue.flows.restore",
    "voice_agent.dialogue.flows.callback",
    "voice_agent.dialogue.flows.info",
    # Issue 12: "cancel" asks first when money details were given.
    "voice_agent.dialogue.flows.cancelling",
)


class Registry:
    """Flows by name, by the intents that start them, and by their main-menu key."""

    def __init__(self, flows: Iterable[Flow]):
        self.flows: dict[str, Flow] = {}
        self.by_intent: dict[str, Flow] = {}
        self.by_key: dict[str, Flow] = {}
        for flow in flows:
            self.add(flow)

    def add(self, flow: Flow) -> None:
        self.flows[flow.name] = flow
        for intent in flow.intents:
            self.by_intent[intent] = flow
        if flow.menu_key:
            self.by_key[flow.menu_key] = flow

    def get(self, name_or_intent: str) -> Flow | None:
        return self.flows.get(name_or_intent) or self.by_intent.get(name_or_intent)

    def interrupting(self, intent: str | None, expecting: str | None = None) -> Flow | None:
        """The flow an intent starts at any step (`interrupts`), unless the step waiting for
        ``expecting`` is one the flow leaves alone (`Flow.not_interrupting`)."""
        flow = self.by_intent.get(intent or "")
        if flow is None or not flow.interrupts or expecting in flow.not_interrupting:
            return None
        return flow


def default_registry(modules: Iterable[str] = FLOW_MODULES) -> Registry:
    flows: list[Flow] = []
    for name in modules:
        flows.extend(importlib.import_module(name).FLOWS)
    return Registry(flows)
