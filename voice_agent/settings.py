"""One frozen settings object, built once at the edge and passed down.

Layers, each overriding the one before:
  1. DEFAULTS below;
  2. a TOML file: ``--config PATH``, else ``$VOICE_AGENT_CONFIG``, else ``voice-agent.toml`` in the
     working directory (missing is fine unless it was named explicitly);
  3. environment variables ``VOICE_AGENT_<KEY>``; nested keys use a double underscore
     (``VOICE_AGENT_FEES__CARD=300``); values are read as TOML values when they parse, else as text
     (``VOICE_AGENT_LANGUAGES='["en","ko"]'``; a comma list also works for lists);
     ``VOICE_AGENT_DB`` is the database path; ``VOICE_AGENT_WORKER`` is not a setting but the
     number of a `serve --sip` worker process (``voice_agent.sip.events``);
  4. CLI flags (``--db``, ``--lang``, ``--set KEY=VALUE``).

Every value is then checked against its default's type and the bounds in settings_schema.py; a
value that does not fit stops the command with one line naming the key and the layer it came
from (file, environment variable, ``--set``), before anything runs with it.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from voice_agent.languages import find_language
from voice_agent.settings_schema import OPEN_MAPS, SettingsError, check

ENV_PREFIX = "VOICE_AGENT_"
# Variables with the prefix that are not settings: the config file's path, a serve worker's number.
NOT_SETTINGS = frozenset({ENV_PREFIX + "CONFIG", ENV_PREFIX + "WORKER"})
DEFAULT_CONFIG_NAME = "voice-agent.toml"

DEFAULTS: dict[str, Any] = {
    "company_name": "Palmetto Power & Telecom",
    # The number printed on bills: the security advice tells callers to trust only this one.
    "official_phone": "+1 803 555 0100",
    "database": "voice-agent.db",
    "languages": ["en", "es", "ko"],
    "default_language": "en",
    # Babel locale per language code (money, dates, numbers), when not the one in
    # locales/<lang>/language.toml: {"en": "en_GB"}.
    "locales": {},
    "currency": "USD",
    # Local time zone for the dates and times read to callers (payment time); stored times stay UTC.
    "timezone": "America/New_York",
    # Convenience fee per payment method, integer cents.
    "fees": {"card": 250, "bank": 0},
    "lockout": {"max_failures": 5, "window_minutes": 30, "lock_minutes": 30, "tries_per_call": 3},
    # Offline limits: what the agent accepts without a processor online (store-and-forward).
    "payment_limits": {"min_cents": 100, "max_cents": 100000, "max_per_day_cents": 200000},
    "arrangements": {"enabled": True, "min_installments": 2, "max_installments": 4, "max_days": 60},
    # Scheduled payments: at most this many days ahead (0 means up to the due date).
    "schedule": {"max_days_ahead": 0},
    # Other ways to pay, read out by the payment_options/fees flows. The words for each way are in
    # locales/<lang>/language.toml [payment_options]; an option may carry its own
    # "text" = {lang = "..."} instead (a way the language files do not name).
    "payment_options": [
        {"key": "online", "fee_cents": 0},
        {"key": "mail", "fee_cents": 0},
        {"key": "in_person", "fee_cents": 0},
        {"key": "autopay", "fee_cents": 0},
    ],
    # Vosk model per language: a directory, or "" to look in models/<lang>/ and then installed packages.
    "models": {"en": "", "es": "", "ko": ""},
    "models_dir": "models",
    # espeak-ng voice per language, when not the one in locales/<lang>/language.toml: {"es": "es"}.
    "voices": {},
    "speech_rate": 165,
    "slow_speech_rate": 120,
    "audio": {"sample_rate": 16000, "no_input_timeout_s": 6.0, "end_silence_ms": 800,
              "max_utterance_s": 20.0,
              # Live audio: short answers end sooner (yes/no, a menu choice: voice_agent/expect.py
              # says which); numbers, dates and free requests keep end_silence_ms (callers pause
              # inside them).
              "end_silence_short_ms": 500,
              # Semantic end of turn (voice_agent/voice/complete.py): once what was heard is a
              # whole, valid answer (a yes, a menu choice, a card number passing Luhn, a full
              # expiry, an amount and its currency word ...) a pause this long ends the turn.
              "end_silence_complete_ms": 200,
              # A whole request at the main menu ends after this pause (0: end_silence_ms
              # always): said word for word as one listed request that no other goes on from
              # ("i want to make a payment"; not "cancel", which may become "cancel my scheduled
              # payment"), or a sentence with one of the locale's sentence_endings ("요금 낼게요").
              "end_silence_request_ms": 400,
              # Keys that already make a whole number end the entry after this pause when a
              # longer entry could still be valid (ZIP+4, a 19-digit card), at once otherwise.
              "key_complete_pause_s": 1.0,
              # Digits in this utility's account numbers: an account number that long is whole
              # (0: any length, the turn then ends by "#", a pause or silence alone).
              "account_number_digits": 9,
              # Recognition confidence bands: >= accept is taken as heard, >= confirm is read back,
              # below confirm is treated as not understood.
              "confidence_accept": 0.85, "confidence_confirm": 0.5},
    # Secrets kept outside the database; "" means next to the database file (<db>.vault-key, ...).
    "vault_key_path": "",
    "pepper_path": "",
    "audit_checkpoint_path": "",
    "log_path": "",
    # Memory-hard hashing of PINs and SSN digits (scrypt; n*r*128 bytes of memory per hash: 1 MiB,
    # ~2.2 ms on one core). Why this cost, and the pepper's role: README, "Import speed and the
    # hashing parameters".
    # Tests lower n through this setting; the stored hash records its own parameters.
    "password_hash": {"n": 1024, "r": 8, "p": 1},
    # Processes hashing secrets during `db import` (0 = one per CPU).
    "import_workers": 0,
    # Hand-off to a person: a SIP URI when a telephony front end can transfer, else callbacks.
    "transfer_target": "",
    "callback_windows": ["morning", "afternoon", "evening"],
    # What callers are told after a restoring payment: service is back within this many hours.
    "restore_within_hours": 4,
    # The phone line (README "Phone line (SIP)"). public_address: the address put in SDP and
    # Contact when the listen address is not the one callers reach (NAT, a public address); ""
    # means the listen address, or, listening on 0.0.0.0, the local address that routes to each
    # caller. A call with no RTP for rtp_timeout_s is hung up (a dead caller frees its line);
    # on SIGTERM new calls get 503 and calls in progress have drain_s to finish.
    "sip": {"listen": "127.0.0.1:5060", "allowed_peers": ["127.0.0.1"], "max_calls": 8,
            "public_address": "", "rtp_timeout_s": 15.0, "drain_s": 120.0},
    # The walk-up kiosk (`voice-agent run`): its screen is served on 127.0.0.1 only, at this port.
    # A customer who does nothing for idle_timeout_s is warned (spoken and shown) idle_warning_s
    # before the end, then the session ends and the screen returns to the welcome page.
    # echo_canceller: the microphone hears through the kiosk's own speech (barge-in); without one
    # it is not listened to while the agent speaks. Devices by name (part of it, as
    # `voice-agent run --list-devices` shows them); "" is the system default.
    "kiosk": {"port": 8765, "idle_timeout_s": 90.0, "idle_warning_s": 20.0,
              "echo_canceller": False, "input_device": "", "output_device": ""},
    # A caller's turn (typed, keyed or recognised) longer than this many characters is not
    # understood (the caller is asked to say it shorter): a line of megabytes costs seconds.
    "max_utterance_chars": 300,
    # The `voice-agent` process umask (octal text): "077" makes every file it writes (database,
    # its -wal/-shm, log, key files, transcripts, reply audio, settlement files) owner-only.
    "umask": "077",
}

# Keys whose values are never printed.
SECRET_KEYS = {"vault_key", "pepper", "password", "secret"}


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# Settings that no longer exist: a file that still sets one loads, with a warning saying why.
RETIRED = {
    "audio.short_answers": "which answers are short is fixed per question in voice_agent/expect.py; "
                           "audio.end_silence_short_ms sets their wait",
}


def _merge(base: dict, over: Mapping, where: str, origin: str, origins: dict[str, str]) -> None:
    """Lay ``over`` on ``base``; ``origins`` records where each value set here came from."""
    for key, value in over.items():
        name = f"{where}.{key}" if where else key
        if name in RETIRED:
            logging.getLogger("voice_agent").warning("setting %s is ignored: %s", name, RETIRED[name])
            continue
        if key not in base and where not in OPEN_MAPS:
            raise SettingsError(f"unknown setting {name} (from {origin})")
        if key in base and isinstance(base[key], dict) and isinstance(value, Mapping):
            _merge(base[key], value, name, origin, origins)
        else:
            base[key] = copy.deepcopy(value)
            origins[name] = origin


def _origin_of(origins: Mapping[str, str]):
    """Where the value of a dotted name came from: its own record, else its table's."""
    def origin(name: str) -> str:
        while name:
            if name in origins:
                return origins[name]
            name = name.rsplit("[", 1)[0] if name.endswith("]") else name.rpartition(".")[0]
        return "the defaults"
    return origin


def _parse_scalar(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


# Words an environment variable or --set may use for true/false; anything else is refused.
BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True,
              "0": False, "false": False, "no": False, "off": False}


def _set_path(data: dict, dotted: str, raw: str, origin: str, origins: dict[str, str]) -> None:
    parts = [p for p in dotted.lower().replace("__", ".").split(".") if p]
    if not parts:
        raise SettingsError(f"empty setting name in {dotted!r} (from {origin})")
    cur = data
    for p in parts[:-1]:
        if not isinstance(cur.get(p), dict):
            raise SettingsError(f"unknown setting {dotted} (from {origin})")
        cur = cur[p]
    leaf = parts[-1]
    value = _parse_scalar(raw)
    old = cur.get(leaf)
    if isinstance(old, list) and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(old, bool) and isinstance(value, (str, int)) and not isinstance(value, bool):
        value = BOOL_WORDS.get(str(value).strip().lower(), value)    # else refused by check
    _merge(cur, {leaf: value}, ".".join(parts[:-1]) or "", origin, origins)


@dataclass(frozen=True)
class Settings:
    """The effective settings. ``data`` is read-only; use the helpers for common lookups."""

    data: Mapping[str, Any]
    source: tuple[str, ...] = field(default=())

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    # Frequently used values, named so callers read well.
    @property
    def company_name(self) -> str:
        return self.data["company_name"]

    @property
    def database(self) -> Path:
        return Path(self.data["database"])

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.data["languages"])

    @property
    def default_language(self) -> str:
        return self.data["default_language"]

    def locale(self, lang: str) -> str:
        """The Babel locale for ``lang``: the setting, else the language file's, else the code."""
        known = find_language(lang)
        return self.data["locales"].get(lang) or (known.babel_locale if known else lang)

    def voice(self, lang: str) -> str:
        """The espeak-ng voice for ``lang``: the setting, else the language file's, else the code."""
        known = find_language(lang)
        return self.data["voices"].get(lang) or (known.voice if known else lang)

    def payment_option_text(self, option: Mapping[str, Any], lang: str) -> str:
        """The words for one of ``payment_options`` in ``lang``: the option's own text, else the
        language file's, else the default language's; the key when no language names it."""
        own = option.get("text") or {}
        for code in (lang, self.default_language):
            known = find_language(code)
            text = own.get(code) or (known.payment_options.get(option["key"]) if known else None)
            if text:
                return text
        return option["key"]

    def fee_cents(self, method: str) -> int:
        return int(self.data["fees"].get(method, 0))

    def _beside_db(self, key: str, suffix: str) -> Path:
        explicit = self.data.get(key) or ""
        return Path(explicit) if explicit else Path(str(self.database) + suffix)

    @property
    def vault_key_path(self) -> Path:
        return self._beside_db("vault_key_path", ".vault-key")

    @property
    def pepper_path(self) -> Path:
        return self._beside_db("pepper_path", ".pepper")

    @property
    def audit_checkpoint_path(self) -> Path:
        return self._beside_db("audit_checkpoint_path", ".audit-checkpoint")

    @property
    def log_path(self) -> Path:
        return self._beside_db("log_path", ".log")

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with top-level keys replaced (used by CLI flags and tests)."""
        data = _thaw(self.data)
        origins: dict[str, str] = {}
        for key, value in overrides.items():
            if value is None:
                continue
            _merge(data, {key: value}, "", "overrides", origins)
        check(data, DEFAULTS, _origin_of(origins))
        return Settings(_freeze(data), self.source + ("overrides",))

    def as_dict(self, masked: bool = True) -> dict[str, Any]:
        data = _thaw(self.data)
        if masked:
            _mask(data)
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)


def _mask(data: Any) -> None:
    if isinstance(data, dict):
        for key in list(data):
            if any(s in key for s in SECRET_KEYS) and isinstance(data[key], str) and data[key]:
                if not key.endswith("_path"):
                    data[key] = "****"
            else:
                _mask(data[key])


def load_settings(config: str | os.PathLike | None = None,
                  env: Mapping[str, str] | None = None,
                  cli: Mapping[str, Any] | None = None,
                  sets: list[str] | None = None,
                  cwd: Path | None = None) -> Settings:
    """Build the effective settings: defaults < TOML file < environment < CLI."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    data = copy.deepcopy(DEFAULTS)
    source = ["defaults"]
    origins: dict[str, str] = {}

    path: Path | None = None
    explicit = False
    if config:
        path, explicit = Path(config), True
    elif env.get(ENV_PREFIX + "CONFIG"):
        path, explicit = Path(env[ENV_PREFIX + "CONFIG"]), True
    elif (cwd / DEFAULT_CONFIG_NAME).exists():
        path = cwd / DEFAULT_CONFIG_NAME
    if path is not None:
        if not path.exists():
            if explicit:
                raise SettingsError(f"settings file {path} does not exist")
        else:
            try:
                file_data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
            _merge(data, file_data, "", f"settings file {path}", origins)
            source.append(str(path))

    for key, raw in sorted(env.items()):
        if not key.startswith(ENV_PREFIX) or key in NOT_SETTINGS:
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name == "db":
            name = "database"
        _set_path(data, name, raw, f"environment variable {key}", origins)
        source.append(f"env {key}")

    for item in sets or []:
        if "=" not in item:
            raise SettingsError(f"--set needs KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        _set_path(data, k.strip(), v.strip(), f"--set {k.strip()}", origins)
        source.append(f"--set {k.strip()}")
    for key, value in (cli or {}).items():
        if value is not None:
            flag = "--db" if key == "database" else f"--{key}"
            _merge(data, {key: value}, "", flag, origins)
            source.append(f"--{key}")

    check(data, DEFAULTS, _origin_of(origins))
    return Settings(_freeze(data), tuple(source))
