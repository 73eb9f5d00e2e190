"""The kiosk screen's web server: one page, its assets and its live updates, on 127.0.0.1 only.

Starlette (ASGI, small, typed, kept by the Encode team) serves the page and takes the buttons as
JSON posts; the live updates are server-sent events, a plain HTTP response Starlette streams
(``StreamingResponse``), which a browser reconnects by itself: one direction is all the screen
needs, so no WebSocket protocol and no client library. uvicorn runs it.

Hardening, for a page that shows a customer's payment: the server binds to 127.0.0.1 (no
setting can change it), answers only Host 127.0.0.1/localhost (a DNS-rebinding page cannot reach
it), takes posts only with the ``X-Kiosk`` header (a cross-origin page cannot send it without a
preflight this server never grants), sends a Content-Security-Policy allowing nothing but its own
assets, and forbids caching. Every URL is fixed: nothing of a call is ever in one.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from voice_agent.kiosk.session import KEYS, Command, KioskSession, Language, Press, Start, StartOver, Touch
from voice_agent.kiosk.view import Screen

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STATIC = Path(__file__).with_name("static")
KEEPALIVE_S = 15.0
TICK_S = 0.25            # how soon a live stream notices the server is stopping
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _frame(state: dict[str, Any]) -> str:
    return f"data: {json.dumps(state, ensure_ascii=False)}\n\n"


def create_app(session: KioskSession, screen: Screen, closing: threading.Event | None = None) -> Starlette:
    """The ASGI app of the kiosk screen over one running ``session``; its live streams end
    when ``closing`` is set (the server is stopping)."""
    closing = closing or threading.Event()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    async def events(request: Request) -> Response:
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def listener(state: dict[str, Any]) -> None:
            try:
                loop.call_soon_threadsafe(updates.put_nowait, state)
            except RuntimeError:      # the server is shutting down
                pass

        first = screen.listen(listener)

        async def stream():
            try:
                yield _frame(first)
                quiet = 0.0
                while not closing.is_set():
                    try:
                        state = await asyncio.wait_for(updates.get(), TICK_S)
                    except TimeoutError:
                        quiet += TICK_S
                        if quiet >= KEEPALIVE_S:
                            quiet = 0.0
                            yield ": keep-alive\n\n"
                        continue
                    quiet = 0.0
                    while not updates.empty():        # only the newest state matters
                        state = updates.get_nowait()
                    yield _frame(state)
            finally:
                screen.unlisten(listener)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={**HEADERS, "X-Accel-Buffering": "no"})

    async def act(request: Request) -> Response:
        if request.headers.get("x-kiosk") != "1":
            return JSONResponse({"error": "forbidden"}, status_code=403, headers=HEADERS)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": "a JSON object is expected"}, status_code=400, headers=HEADERS)
        events = _events(request.path_params["action"], body)
        if not events:
            return JSONResponse({"error": "not understood"}, status_code=400, headers=HEADERS)
        for event in events:
            session.put(event)
        return JSONResponse({"ok": True}, headers=HEADERS)

    routes = [Route("/", index), Route("/events", events),
              Route("/api/{action}", act, methods=["POST"]),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=[HOST, "localhost"])]
    return Starlette(routes=routes, middleware=middleware)


def _events(action: str, body: dict[str, Any]) -> list:
    """The session events a post asks for (none: not a valid post). ``press`` is one key of the
    keypad; ``choose`` the keys of a choice button (a key, or a key and "#")."""
    value = body.get("value")
    if action == "press" and isinstance(value, str) and value in KEYS:
        return [Press(value)]
    if (action == "choose" and isinstance(value, str) and 1 <= len(value) <= 2
            and all(key in KEYS for key in value)):
        return [Press(key) for key in value]
    if action == "language" and isinstance(value, str):
        return [Language(value)]
    if action == "command" and value in ("repeat", "slower"):
        return [Command(value)]
    simple = {"start": Start, "touch": Touch, "start_over": StartOver}
    return [simple[action]()] if action in simple else []


class KioskServer:
    """uvicorn serving ``app`` on 127.0.0.1:``port``, quiet; ``closing`` is set as it begins to
    stop (Ctrl-C, SIGTERM or ``stop``), so the live streams end and do not hold the shutdown."""

    def __init__(self, app_for: Callable[[threading.Event], Starlette], port: int) -> None:
        import uvicorn
        self.closing = threading.Event()
        closing = self.closing

        class Server(uvicorn.Server):
            def handle_exit(self, sig, frame) -> None:
                closing.set()
                super().handle_exit(sig, frame)

        config = uvicorn.Config(app_for(closing), host=HOST, port=port, log_level="warning",
                                access_log=False, timeout_graceful_shutdown=2, lifespan="off")
        self.server = Server(config)

    @property
    def started(self) -> bool:
        return self.server.started

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.closing.set()
        self.server.should_exit = True
