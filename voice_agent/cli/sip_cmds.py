"""`voice-agent serve --sip HOST:PORT`: the phone line.

Answers SIP calls from the allowed peers (settings ``sip.allowed_peers``), at most ``sip.max_calls``
at once (486 Busy beyond), and runs the whole dialogue for each call. Prints one JSON line per
event on stdout (answered, prompt, barge_in, heard, call_done, refused, ...: states, counts and
timings, never what the caller said or keyed; each with ``ts`` and ``worker``, per-call events with
the SIP Call-ID and store call id: ``voice_agent.sip.events``) until Ctrl-C or SIGTERM; PJSIP's
own log stays at errors unless ``--sip-log-level`` asks for more.
"""
from __future__ import annotations

import signal
import threading


def register(sub, common) -> None:
    p = sub.add_parser("serve", parents=[common], help="answer phone calls over SIP",
                       description=__doc__.splitlines()[0])
    p.add_argument("--sip", metavar="HOST:PORT", default=None,
                   help="address to listen on (UDP); default: settings sip.listen")
    p.add_argument("--max-calls", type=int, default=None, help="override sip.max_calls")
    p.add_argument("--sip-log-level", type=int, default=1, choices=range(0, 7),
                   help="PJSIP's own log level into the log file: 0 off, 1 errors (default), "
                        "2 warnings, 3 info, 4 debug, 5-6 trace; SIP messages are never dumped "
                        "and caller content is masked at any level")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args, settings) -> int:
    from voice_agent.cli import CliError
    from voice_agent.sip.policy import CallSlots, PeerAllowList, SipSettingsError, parse_hostport
    try:
        from voice_agent.sip.server import SipServer
    except ImportError as exc:
        raise CliError(str(exc)) from None
    from voice_agent.app import build
    from voice_agent.sip.events import EventLines
    from voice_agent.sip.session import PhoneCall

    sip = settings["sip"]
    max_calls = args.max_calls if args.max_calls is not None else sip["max_calls"]
    try:                                   # check the settings before loading any model
        host, port = parse_hostport(args.sip or sip["listen"])
        PeerAllowList(list(sip["allowed_peers"]))
        CallSlots(max_calls)
    except SipSettingsError as exc:
        raise CliError(str(exc)) from None

    emit = EventLines()          # stamps ts and worker (VOICE_AGENT_WORKER) on every line

    from voice_agent.voice.models import ModelError
    services = build(settings)
    try:
        loaded = services.load_models()
    except ModelError as exc:
        services.close()
        raise CliError(str(exc)) from None

    def handler(line) -> None:
        PhoneCall(services, line, on_event=emit).run()

    try:
        server = SipServer(host, port, handler, allowed_peers=sip["allowed_peers"], max_calls=max_calls,
                           rate=int(settings["audio"]["sample_rate"]), log_level=args.sip_log_level,
                           on_event=emit)
        server.start()
    except (SipSettingsError, RuntimeError) as exc:
        services.close()
        raise CliError(f"cannot listen on {host}:{port}: {exc}") from None
    emit({"event": "ready", "sip": f"{host}:{port}", "max_calls": server.max_calls,
          "max_calls_setting": max_calls,
          "allowed_peers": list(sip["allowed_peers"]), "models": loaded,
          "transfer_target": settings.get("transfer_target") or None})

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    services.close()
    stats = server.stats
    emit({"event": "stopped", "answered": stats.answered, "completed": stats.completed,
          "forbidden": stats.forbidden, "busy": stats.busy, "errors": stats.handler_errors})
    return 0

