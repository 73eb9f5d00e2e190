"""Fixtures shared by the tests. Helpers that tests import live in the *_helpers.py modules and
conversation.py beside this file; no test module imports another.

- ``settings``: default settings on a fresh database in the test's tmp_path, cheap hashing.
- ``store``: that database, opened, with the demo accounts.
- ``nlu``: the real Understander for the enabled languages, loaded once per run.
- ``demo_agent(**overrides)``: an Agent (real NLU) on a fresh demo database with those settings,
  as ``(agent, store)``; stores are closed after the test. ``agent``: ``demo_agent()``'s agent.
- ``demo_template``: a folder holding a demo database made once per run, for tests that work on
  many fresh copies of it (copying is cheaper than installing the demo again).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from voice_agent.dialogue import Agent
from voice_agent.nlu import Understander
from voice_agent.settings import Settings
from voice_agent.store import Store

from nlu_helpers import understander
from store_helpers import make_settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings) -> Iterator[Store]:
    s = Store.open(settings)
    s.install_demo()
    yield s
    s.close()


@pytest.fixture(scope="session")
def nlu() -> Understander:
    return understander()


@pytest.fixture
def demo_agent(tmp_path, nlu) -> Iterator[Callable[..., tuple[Agent, Store]]]:
    stores: list[Store] = []

    def build(**overrides) -> tuple[Agent, Store]:
        settings = make_settings(tmp_path, database=str(tmp_path / f"agent{len(stores)}.db"),
                                 **overrides)
        store = Store.open(settings)
        stores.append(store)
        store.install_demo()
        return Agent(settings, store, nlu), store
    yield build
    for store in stores:
        store.close()


@pytest.fixture
def agent(demo_agent) -> Agent:
    return demo_agent()[0]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo-template")
    with Store.open(make_settings(folder)) as store:
        store.install_demo()
    return folder
