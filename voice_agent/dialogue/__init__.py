"""The call dialogue: `Agent.step(session, CallerEvent) -> AgentTurn`, no I/O of its own.

See ARCHITECTURE.md "Dialogue". Flows live in `dialogue/flows/` and are registered by intent;
replies are prompt keys rendered from locales/<lang>/prompts.toml by `dialogue/prompts.py`.
"""
from voice_agent.dialogue.engine import Agent
from voice_agent.dialogue.events import AgentTurn, CallerEvent, Reply
from voice_agent.dialogue.session import Session
from voice_agent.expect import EXPECTING  # the contract's `expecting` values (one table)

__all__ = ["Agent", "AgentTurn", "CallerEvent", "Reply", "Session", "EXPECTING"]
