"""Voice commands: the kiosk (`run`), recorded calls (`call`), `transcribe`, `say`, `models`, `demo`.

Each command builds its parts from the settings and hands them to voice_agent.voice; the heavy
engines load only inside the commands that use them.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from voice_agent.cli import CliError
from voice_agent.settings import Settings

if TYPE_CHECKING:
    from voice_agent.voice.turns import TurnEnd


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", parents=[common],
                       help="the kiosk: its touch screen (on 127.0.0.1, port kiosk.port) with captions "
                            "and keypad, microphone in, speaker out")
    p.add_argument("--lang", help="start in this language (default: offer the language menu)")
    p.add_argument("--input-device", type=int, metavar="N",
                   help="microphone (see --list-devices; default: kiosk.input_device)")
    p.add_argument("--output-device", type=int, metavar="N",
                   help="speaker (default: kiosk.output_device)")
    p.add_argument("--list-devices", action="store_true", help="list sound devices and exit")
    p.add_argument("--no-screen", action="store_true",
                   help="no screen: the terminal loop (captions on the console, keys typed and Enter)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("call", parents=[common],
                       help="a call from recorded caller turns (one WAV per turn)")
    p.add_argument("turns", nargs="+", metavar="TURN.wav")
    p.add_argument("--lang", help="start in this language (default: the language menu)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the business day (default: today)")
    p.add_argument("--caller-id", metavar="NUMBER")
    p.add_argument("--out-dir", required=True, metavar="DIR",
                   help="where reply_NN.wav and transcript.json go")
    p.add_argument("--quiet", action="store_true", help="no captions")
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("transcribe", parents=[common],
                       help="recognise one WAV file (speech or keypad tones)")
    p.add_argument("file", metavar="FILE.wav")
    p.add_argument("--lang", required=True)
    p.add_argument("--expect", metavar="KIND",
                   help="a value kind (digits, amount, date, expiry, yes_no, language) or what the "
                        "dialogue expects (account_number, confirm, ...): sets the grammar and "
                        "prints the value")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("say", parents=[common], help="render text to a WAV file with the language's voice")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--lang", required=True)
    p.add_argument("--out", required=True, metavar="FILE.wav")
    p.add_argument("--slow", action="store_true", help="the slower rate")
    p.set_defaults(func=cmd_say)

    models = sub.add_parser("models", help="speech models per language")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    p = msub.add_parser("list", parents=[common], help="each enabled language and its model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_list)
    p = msub.add_parser("install", parents=[common],
                        help="install a Vosk model by name, URL or local zip into models/<lang>/")
    p.add_argument("source", metavar="NAME_OR_URL_OR_ZIP")
    p.add_argument("--lang", help="language code (default: from the model's name)")
    p.set_defaults(func=cmd_models_install)

    p = sub.add_parser("demo", parents=[common],
                       help="the kiosk where there is a microphone and a model; else a whole demo "
                            "call in Korean from synthesized caller audio")
    p.add_argument("--recorded", action="store_true",
                   help="always the recorded demo call, even with a microphone")
    p.add_argument("--out-dir", metavar="DIR", help="keep the demo's audio and transcript here")
    p.set_defaults(func=cmd_demo)


def parse_today(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"--today must be YYYY-MM-DD, got {text!r}") from None


def require_configured_models(settings: Settings, langs=None) -> None:
    """A model folder named in the settings that is not usable stops the command up front."""
    from voice_agent.voice.models import ModelError, check_configured
    try:
        check_configured(settings, langs)
    except ModelError as exc:
        raise CliError(str(exc)) from None


def check_lang(settings: Settings, lang: str | None) -> str | None:
    if lang and lang not in settings.languages:
        raise CliError(f"language {lang!r} is not enabled (enabled: {', '.join(settings.languages)})")
    return lang


def load_nlu(settings: Settings):
    from voice_agent.nlu import Understander
    return Understander(languages=settings.languages)


def cmd_models_list(args, settings: Settings) -> int:
    from voice_agent.voice.models import describe
    rows = describe(settings)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    for row in rows:
        if row["ok"]:
            print(f"{row['lang']:4} {row['size_mb']:>7.1f} MB  {row['source']:24} {row['path']}")
        else:
            print(f"{row['lang']:4}  missing    {row['missing']}")
    if not all(r["ok"] for r in rows):
        print("install one with: voice-agent models install vosk-model-small-en-us-0.15 "
              "(or a URL or a local .zip) [--lang LANG]")
    return 0


def cmd_models_install(args, settings: Settings) -> int:
    from voice_agent.voice.models import ModelError, install
    try:
        if args.lang and not re.fullmatch(r"[a-z]{2,3}", args.lang):
            raise CliError(f"--lang must be a language code such as en or ko, not {args.lang!r}")
        info = install(args.source, settings, lang=args.lang,
                       progress=sys.stderr.isatty(), log=lambda m: print(m, file=sys.stderr))
    except ModelError as exc:
        raise CliError(f"models install: {exc}") from None
    print(f"installed {info.lang} model in {info.path} ({info.size_bytes / 1e6:.1f} MB)")
    return 0


def cmd_say(args, settings: Settings) -> int:
    from voice_agent.voice.audio import write_wav
    from voice_agent.voice.tts import SpeechError, Synthesizer
    check_lang(settings, args.lang)
    try:
        pcm, rate = Synthesizer.from_settings(settings).render_pcm(args.text, args.lang, args.slow)
    except SpeechError as exc:
        raise CliError(str(exc)) from None
    try:
        write_wav(args.out, pcm, rate)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"{args.out}: {len(pcm) / 2 / rate:.2f} s at {rate} Hz")
    return 0


def listen_to_file(path: str, audio: dict) -> tuple[TurnEnd, int]:
    """One pass over a recording by the calls' turn loop, a chunk at a time: (how the turn
    ended, rate). Keys anywhere win over speech, as in a call; memory does not grow with the
    length of the file. Phone audio stays at 8 kHz, as in a call."""
    from voice_agent.voice.audio import stream_wav, wav_format
    from voice_agent.voice.pipeline import NATIVE_RATES
    from voice_agent.voice.turns import TurnLoop
    src = wav_format(path).rate
    rate = src if src in NATIVE_RATES else 16000
    return TurnLoop(audio, rate, recording=True).hear(stream_wav(path, rate)), rate


def cmd_transcribe(args, settings: Settings) -> int:
    from voice_agent.expect import EXPECTATIONS, kind_of
    from voice_agent.nlu import KINDS
    from voice_agent.voice.asr import Recognizer
    from voice_agent.voice.audio import AudioError
    from voice_agent.voice.endpoint import NoInput
    from voice_agent.voice.models import ModelError, load, require_model
    from voice_agent.voice.turns import Keys
    check_lang(settings, args.lang)
    require_configured_models(settings, [args.lang])
    try:
        found, rate = listen_to_file(args.file, settings["audio"])
    except AudioError as exc:
        raise CliError(str(exc)) from None
    nlu = load_nlu(settings)
    expect = args.expect
    kind = kind_of(expect) if expect in EXPECTATIONS else (expect if expect in KINDS else None)
    if expect and kind is None and expect not in EXPECTATIONS:
        raise CliError(f"--expect {expect!r}: not a value kind or an expected answer")
    out: dict = {"file": args.file, "lang": args.lang}
    if isinstance(found, Keys):
        out.update(text=None, dtmf=found.keys, confidence=1.0, band="accept")
        value_text = found.keys.rstrip("#")
    else:
        if isinstance(found, NoInput):
            out.update(text="", no_input=True, confidence=0.0, band="reject")
            value_text = ""
        else:
            try:
                model = load(require_model(settings, args.lang))
            except ModelError as exc:
                raise CliError(str(exc)) from None
            rec = Recognizer.from_settings(model, settings, rate, args.lang, nlu)
            rec.expect(expect if expect in EXPECTATIONS else _expect_for_kind(kind), args.lang)
            result = rec.recognize(found.pcm)
            out.update(result.to_json())
            value_text = result.text
    if kind:
        value = nlu.parse_value(kind, value_text, args.lang) if value_text else None
        out["kind"], out["value"] = kind, _jsonable(value)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        heard = f"[keys] {out['dtmf']}" if out.get("dtmf") else (out.get("text") or "(no speech)")
        print(heard)
        print(f"confidence {out['confidence']:.2f} ({out['band']})")
        if kind:
            print(f"{kind}: {out['value'] if out['value'] is not None else '(none)'}")
    return 0


def _expect_for_kind(kind: str | None) -> str | None:
    """An `expecting` whose grammar fits a bare value kind (digits -> account_number, ...)."""
    from voice_agent.expect import EXPECTATIONS
    if kind is None:
        return None                     # no --expect: the open vocabulary
    return next((name for name, e in EXPECTATIONS.items() if e.kind == kind), None)


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple) and len(value) == 2:
        return f"{value[0]:02d}/{value[1] % 100:02d}"
    return str(value)


def cmd_call(args, settings: Settings) -> int:
    from voice_agent.app import build
    from voice_agent.voice.audio import AudioError
    from voice_agent.voice.recorded import load_turns, run_recorded
    lang = check_lang(settings, args.lang)
    today = parse_today(args.today)
    require_configured_models(settings)
    try:
        turns = load_turns(args.turns)       # all of them first: a bad file changes nothing
    except AudioError as exc:
        raise CliError(f"call: {exc}") from None
    try:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"call: cannot write to {args.out_dir}: {exc.strerror}") from None
    with build(settings) as services:
        call = services.voice_call(lang=lang, today=today, caller_id=args.caller_id)
        show = (lambda s: None) if args.quiet else print
        transcript = run_recorded(call, turns, Path(args.out_dir), show)
    print(f"{len(transcript['turns'])} agent turns, outcome {transcript['outcome']}; "
          f"wrote {args.out_dir}/transcript.json")
    return 0


def cmd_run(args, settings: Settings) -> int:
    from voice_agent.voice.kiosk import KioskError, find_device, list_devices, run_kiosk
    if args.list_devices:
        print(list_devices() or "no sound devices found")
        return 0
    lang = check_lang(settings, args.lang)
    require_configured_models(settings)
    try:
        if not args.no_screen:
            from voice_agent.kiosk.run import run_screen
            return run_screen(settings, lang=lang, input_device=args.input_device,
                              output_device=args.output_device)
        kiosk = settings["kiosk"]
        inp = args.input_device if args.input_device is not None else kiosk["input_device"]
        out = args.output_device if args.output_device is not None else kiosk["output_device"]
        return run_kiosk(settings, lang=lang, input_device=find_device(inp, "input"),
                         output_device=find_device(out, "output"))
    except KioskError as exc:
        raise CliError(str(exc)) from None


def cmd_demo(args, settings: Settings) -> int:
    from voice_agent.voice.demo import run_demo
    from voice_agent.voice.kiosk import KioskError, kiosk_possible, run_kiosk
    lang = "ko"
    if not args.recorded:
        ready, why = kiosk_possible(settings, lang)
        if ready:
            try:
                return run_kiosk(settings, lang=None)
            except KioskError as exc:
                raise CliError(str(exc)) from None
        print(f"demo: {why}; running a recorded demo call in Korean instead", file=sys.stderr)
    from voice_agent.cli.store_cmds import print_payments
    return run_demo(settings, out_dir=Path(args.out_dir) if args.out_dir else None,
                    show_payments=print_payments)
