"""`voice-agent serve --sip HOST:PORT`: the phone line.

Answers SIP calls from the allowed peers (settings ``sip.allowed_peers``), at most ``sip.max_calls``
at once (486 Busy beyond), and runs the whole dialogue for each call. Prints one JSON line per
event on stdout (answered, prompt, barge_in, heard, call_done, refused, ...: states, counts and
timings, never what the caller said or keyed; each with ``ts`` and ``worker``, per-call events with
the SIP Call-ID and store call id: ``voice_agent.sip.events``); PJSIP's own log stays at errors
unless ``--sip-log-level`` asks for more. Ctrl-C or SIGTERM drains: new calls get 503, calls in
progress have ``sip.drain_s`` to end; a second signal stops at once. With ``--workers N``, N such
processes on consecutive ports (voice_agent.sip.workers).
"""
from __future__ import annotations

import logging
import signal
import sys
import threading


def register(sub, common) -> None:
    p = sub.add_parser("serve", parents=[common], help="answer phone calls over SIP",
                       description=__doc__.splitlines()[0])
    p.add_argument("--sip", metavar="HOST:PORT", default=None,
                   help="address to listen on (UDP); default: settings sip.listen")
    p.add_argument("--max-calls", type=int, default=None, help="override sip.max_calls")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="N worker processes on PORT..PORT+N-1 under one supervisor that restarts "
                        "a worker that dies (each takes up to sip.max_calls calls, at most 4)")
    p.add_argument("--sip-log-level", type=int, default=1, choices=range(0, 7),
                   help="PJSIP's own log level into the log file: 0 off, 1 errors (default), "
                        "2 warnings, 3 info, 4 debug, 5-6 trace; SIP messages are never dumped "
                        "and caller content is masked at any level")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args, settings) -> int:
    from voice_agent.cli import CliError
    from voice_agent.sip.policy import CallSlots, PeerAllowList, SipSettingsError, parse_hostport
    try:
        from voice_agent.sip.server import SipServer  # noqa: F401 - the install hint, early
    except ImportError as exc:
        raise CliError(str(exc)) from None
    from voice_agent.app import build
    from voice_agent.sip.events import EventLines

    sip = settings["sip"]
    max_calls = args.max_calls if args.max_calls is not None else sip["max_calls"]
    try:                                   # check the settings before loading any model
        host, port = parse_hostport(args.sip or sip["listen"])
        PeerAllowList(list(sip["allowed_peers"]))
        CallSlots(max_calls)
        if args.workers is not None and not 1 <= args.workers <= 64:
            raise SipSettingsError("--workers must be 1 to 64")
        if args.workers is not None and port + args.workers - 1 > 65535:
            raise SipSettingsError(f"--workers {args.workers} from port {port} goes past 65535")
    except SipSettingsError as exc:
        raise CliError(str(exc)) from None

    # Stamps ts and worker on every line; the worker number (VOICE_AGENT_WORKER) is read at each
    # line, since the workers are forked after this.
    emit = EventLines()

    from voice_agent.voice.models import ModelError
    services = build(settings)
    try:
        loaded = services.load_models()
    except ModelError as exc:
        services.close()
        raise CliError(str(exc)) from None
    line = _Line(args, settings, host, max_calls, emit, loaded)
    if args.workers is None:
        # Not a daemon: Python waits for it at exit. A daemon thread still inside Vosk while the
        # interpreter shuts down kills the process (SIGSEGV, seen when a drain ended quickly).
        threading.Thread(target=warm_phone_line, args=(settings, services.nlu, loaded),
                         name="warm-up").start()
        return line.serve(services, port)
    # Before forking: every worker starts with the warm recognizers (and no thread runs here).
    warm_phone_line(settings, services.nlu, loaded)

    # Workers: the speech models and the understander stay loaded here and are shared by the
    # forked workers (sip/workers.py); each worker opens its own store.
    from voice_agent.sip.stack import PJSUA_CALL_LIMIT
    from voice_agent.sip.workers import Supervisor
    models, nlu = services.models, services.nlu
    services.close()
    if max_calls > PJSUA_CALL_LIMIT:          # said once here, not by every worker
        logging.getLogger("voice_agent.sip").warning(
            "sip.max_calls=%d: this PJSIP build takes at most %d calls per worker: %d workers "
            "answer %d calls at once", max_calls, PJSUA_CALL_LIMIT, args.workers,
            args.workers * PJSUA_CALL_LIMIT)
        line.server_max_calls = PJSUA_CALL_LIMIT

    def run_worker(index: int, ready) -> int:
        worker_services = build(settings, nlu=nlu)
        worker_services.models.update(models)
        try:
            return line.serve(worker_services, port + index, ready=ready, signals=(signal.SIGTERM,))
        except CliError as exc:
            print(f"voice-agent: {exc}", file=sys.stderr)
            return exc.status
    supervisor = Supervisor(args.workers, run_worker, on_event=emit,
                            kill_after_s=float(sip["drain_s"]) + 30.0)
    return supervisor.run()


def warm_phone_line(settings, nlu, loaded: dict) -> dict[str, float]:
    """Warm the open-vocabulary recognizers of the loaded languages at the phone line's 8 kHz,
    so the first caller whose words are outside every grammar does not wait ~2 s while a fresh
    one expands its graph (``pipeline.warm_up``). Returns seconds spent per language."""
    from voice_agent.voice.pipeline import warm_up
    try:
        return warm_up(settings, nlu, list(loaded), rates=(8000,))
    except Exception:          # a warm-up that fails costs the first caller time, nothing more
        logging.getLogger("voice_agent.sip").exception("warming the speech models failed")
        return {}


class _Line:
    """One phone-line process (``serve`` alone, or one worker): answer calls until a signal, then
    drain: 503 to new calls, up to ``sip.drain_s`` for the calls in progress (a second signal
    stops at once), hang up the rest."""

    def __init__(self, args, settings, host: str, max_calls: int, emit, loaded: dict):
        self.args, self.settings, self.host = args, settings, host
        self.max_calls, self.emit, self.loaded = max_calls, emit, loaded
        self.server_max_calls = max_calls

    def serve(self, services, port: int, ready=None,
              signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> int:
        from voice_agent.cli import CliError
        from voice_agent.sip.policy import SipSettingsError
        from voice_agent.sip.server import SipServer
        from voice_agent.sip.session import PhoneCall
        settings, sip, emit = self.settings, self.settings["sip"], self.emit

        def handler(line) -> None:
            PhoneCall(services, line, on_event=emit).run()

        # From here on a signal drains (set before the worker says it is ready).
        stop, at_once = threading.Event(), threading.Event()

        def signalled(*_) -> None:
            (at_once if stop.is_set() else stop).set()
        for sig in signals:
            signal.signal(sig, signalled)

        try:
            server = SipServer(self.host, port, handler, allowed_peers=sip["allowed_peers"],
                               max_calls=self.server_max_calls,
                               rate=int(settings["audio"]["sample_rate"]),
                               log_level=self.args.sip_log_level, on_event=emit,
                               public_address=sip["public_address"],
                               rtp_timeout_s=float(sip["rtp_timeout_s"]))
            server.start()
        except (SipSettingsError, RuntimeError) as exc:
            services.close()
            raise CliError(f"cannot listen on {self.host}:{port}: {exc}") from None
        emit({"event": "ready", "sip": f"{self.host}:{port}", "max_calls": server.max_calls,
              "max_calls_setting": self.max_calls,
              "allowed_peers": list(sip["allowed_peers"]), "models": self.loaded,
              "transfer_target": settings.get("transfer_target") or None})
        if ready is not None:
            ready()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        drain_s = float(sip["drain_s"])
        emit({"event": "draining", "calls": server.active_calls, "drain_s": drain_s})
        left = server.drain(drain_s, at_once)
        if left:
            emit({"event": "drain_ended", "calls_cut": left,
                  "by": "signal" if at_once.is_set() else "drain_s"})
        server.stop()
        services.close()
        stats = server.stats
        emit({"event": "stopped", "answered": stats.answered, "completed": stats.completed,
              "forbidden": stats.forbidden, "busy": stats.busy, "errors": stats.handler_errors,
              "unavailable": stats.unavailable, "rtp_timeouts": stats.rtp_timeouts})
        return 0
