"""The kiosk screen served in the test process (session thread + uvicorn thread), for the tests
that drive it with a browser or HTTP (no tests here)."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from voice_agent.app import build
from voice_agent.kiosk.server import KioskServer, create_app
from voice_agent.kiosk.session import KioskSession
from voice_agent.kiosk.view import Screen
from voice_agent.store import Store

from store_helpers import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Kiosk:
    url: str
    screen: Screen
    session: KioskSession
    settings: object


@contextlib.contextmanager
def serve_kiosk(tmp_path, speaker=None, mic=None, **kiosk) -> Iterator[Kiosk]:
    """A demo database and the kiosk screen on a free port, stopped afterwards."""
    port = free_port()
    settings = make_settings(tmp_path, kiosk={"port": port, "idle_timeout_s": 90.0, "idle_warning_s": 20.0,
                                              "echo_canceller": False, "input_device": "",
                                              "output_device": "", **kiosk})
    with Store.open(settings, create=True) as store:
        store.install_demo()
    services = build(settings)
    screen = Screen(settings.languages, settings.default_language)
    session = KioskSession(services, settings, screen, speaker=speaker, mic=mic)
    stop = threading.Event()
    worker = threading.Thread(target=session.run, args=(stop,), daemon=True)
    worker.start()
    server = KioskServer(lambda closing: create_app(session, screen, closing), port)
    web = threading.Thread(target=server.run, daemon=True)
    web.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Kiosk(f"http://127.0.0.1:{port}/", screen, session, settings)
    finally:
        server.stop()
        stop.set()
        web.join(timeout=5)
        worker.join(timeout=5)
        services.close()
