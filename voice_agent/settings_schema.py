"""What each setting may hold, checked once when the settings are built (voice_agent.settings).

The types come from ``DEFAULTS`` itself (a setting holds what its default holds: text, a whole
number, a number, true/false, a list of such, a table), so a new setting is checked the moment it
gets a default; ``RANGES`` adds the bounds a type cannot say, and ``_check_together`` the rules
between settings. A small walk over the defaults rather than a validation library: the defaults
already are the schema (a library would need it written a second time as models), the error
must name the layer the value came from (file, environment variable, ``--set``), which a library
does not know, and the product stays one dependency lighter on an offline machine.

Every problem is one ``SettingsError`` line: the dotted key, what it must be, the value given and
where it came from.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Maps whose keys are open (a new language or payment method may be added in a settings file),
# by dotted name, with what each entry holds; "*" stands for any list position.
OPEN_MAPS: dict[str, Any] = {"models": "", "voices": "", "locales": "", "fees": 0,
                             "payment_options.*.text": ""}
# What an element of a list holds when its default does not show every field.
LIST_ITEMS: dict[str, Any] = {"payment_options": {"key": "", "fee_cents": 0, "text": {}}}
# Fields of a list's table that may be left out (the code has a default for them).
OPTIONAL = {"payment_options.*.fee_cents", "payment_options.*.text"}
# Bounds (inclusive; None = open) beyond the type, by dotted name (an open map's entry or a
# list's element is "*").
RANGES: dict[str, tuple[float | None, float | None]] = {
    "fees.*": (0, None),
    "payment_options.*.fee_cents": (0, None),
    "lockout.max_failures": (1, None), "lockout.window_minutes": (1, None),
    "lockout.lock_minutes": (1, None), "lockout.tries_per_call": (1, None),
    "payment_limits.min_cents": (1, None), "payment_limits.max_cents": (1, None),
    "payment_limits.max_per_day_cents": (1, None),
    "arrangements.min_installments": (1, None), "arrangements.max_installments": (1, None),
    "arrangements.max_days": (1, None),
    "schedule.max_days_ahead": (0, 3650),
    "speech_rate": (80, 450), "slow_speech_rate": (80, 450),          # espeak-ng's range
    "audio.sample_rate": (8000, 48000), "audio.no_input_timeout_s": (0.5, 600),
    "audio.end_silence_ms": (50, 10000), "audio.end_silence_short_ms": (50, 10000),
    "audio.end_silence_complete_ms": (0, 10000), "audio.end_silence_request_ms": (0, 10000),
    "audio.key_complete_pause_s": (0, 60),
    "audio.account_number_digits": (0, 24),
    "audio.max_utterance_s": (1, 600),
    "audio.confidence_accept": (0, 1), "audio.confidence_confirm": (0, 1),
    "password_hash.n": (2, 2**24), "password_hash.r": (1, 64), "password_hash.p": (1, 16),
    "import_workers": (0, 256),
    "restore_within_hours": (0, 24 * 31),
    "max_utterance_chars": (20, 10000),
    "sip.max_calls": (1, 1000), "sip.rtp_timeout_s": (1, 3600), "sip.drain_s": (0, 86400),
    "kiosk.port": (1024, 65535), "kiosk.idle_timeout_s": (5, 3600), "kiosk.idle_warning_s": (1, 600),
}
# Text that must not be empty ("" elsewhere means "the default place" or "none").
NOT_EMPTY = {"company_name", "official_phone", "database", "default_language", "currency",
             "timezone", "models_dir", "languages.*", "callback_windows.*", "sip.listen",
             "sip.allowed_peers.*", "payment_options.*.key", "umask"}

Origin = Callable[[str], str]


class SettingsError(ValueError):
    """A settings file or override that cannot be used; the message says which and why."""


def check(data: Mapping[str, Any], defaults: Mapping[str, Any], origin: Origin) -> None:
    """Raise ``SettingsError`` for the first setting in ``data`` that does not fit;
    ``origin(dotted_name)`` says where a value came from."""
    _check_table(data, defaults, "", "", origin)
    _check_together(data, origin)


def _bad(name: str, must: str, value: Any, origin: Origin) -> SettingsError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return SettingsError(f"{name} must be {must}, got {shown} (from {origin(name)})")


def _check_table(value: Any, template: Mapping, name: str, pattern: str, origin: Origin) -> None:
    if not isinstance(value, Mapping):
        raise _bad(name, "a table", value, origin)
    for key, sub_value in value.items():
        sub = f"{name}.{key}" if name else str(key)
        if pattern in OPEN_MAPS:
            _check_value(sub_value, OPEN_MAPS[pattern], sub, f"{pattern}.*", origin)
        elif key in template:
            _check_value(sub_value, template[key], sub, f"{pattern}.{key}" if pattern else key,
                         origin)
        else:
            raise SettingsError(f"unknown setting {sub} (from {origin(sub)})")
    if pattern not in OPEN_MAPS:
        for key in template:
            if key not in value and f"{pattern}.{key}" not in OPTIONAL:
                raise SettingsError(f"{name}.{key} is missing (from {origin(name)})")


def _check_value(value: Any, template: Any, name: str, pattern: str, origin: Origin) -> None:
    if isinstance(template, Mapping):
        _check_table(value, template, name, pattern, origin)
        return
    if isinstance(template, list):
        if not isinstance(value, (list, tuple)):
            raise _bad(name, "a list", value, origin)
        item = LIST_ITEMS.get(pattern, template[0] if template else "")
        for i, element in enumerate(value):
            _check_value(element, item, f"{name}[{i}]", f"{pattern}.*", origin)
        return
    if isinstance(template, bool):
        if not isinstance(value, bool):
            raise _bad(name, "true or false", value, origin)
        return
    if isinstance(template, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(name, "a whole number", value, origin)
    elif isinstance(template, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(name, "a number", value, origin)
    elif isinstance(template, str):
        if not isinstance(value, str):
            raise _bad(name, "text", value, origin)
        if pattern in NOT_EMPTY and not value.strip():
            raise _bad(name, "non-empty text", value, origin)
        return
    low, high = RANGES.get(pattern, (None, None))
    if low is not None and high is not None and not low <= value <= high:
        raise _bad(name, f"between {low} and {high}", value, origin)
    if low is not None and value < low:
        raise _bad(name, f"at least {low}", value, origin)
    if high is not None and value > high:
        raise _bad(name, f"at most {high}", value, origin)


def _from(origin: Origin, *names: str) -> str:
    """Where the settings of a rule between several came from (those not left at their default)."""
    places = list(dict.fromkeys(origin(n) for n in names))
    given = [p for p in places if p != "the defaults"] or places
    return f"(from {' and '.join(given)})"


def _check_together(data: Mapping[str, Any], origin: Origin) -> None:
    """Rules between settings, and text that must have a form."""
    langs = data["languages"]
    if not langs:
        raise _bad("languages", "a non-empty list of language codes", langs, origin)
    if data["default_language"] not in langs:
        raise SettingsError(f"default_language {data['default_language']!r} is not among languages"
                            f" {list(langs)} {_from(origin, 'default_language', 'languages')}")
    lim = data["payment_limits"]
    if lim["min_cents"] > lim["max_cents"]:
        raise SettingsError("payment_limits: need min_cents <= max_cents (integer cents)"
                            f" {_from(origin, 'payment_limits.min_cents', 'payment_limits.max_cents')}")
    if lim["min_cents"] > lim["max_per_day_cents"]:
        raise SettingsError("payment_limits: need min_cents <= max_per_day_cents"
                            f" {_from(origin, 'payment_limits.min_cents', 'payment_limits.max_per_day_cents')}")
    arr = data["arrangements"]
    if arr["min_installments"] > arr["max_installments"]:
        raise SettingsError("arrangements: need min_installments <= max_installments"
                            f" {_from(origin, 'arrangements.min_installments', 'arrangements.max_installments')}")
    audio = data["audio"]
    if audio["confidence_confirm"] > audio["confidence_accept"]:
        raise SettingsError("audio: need confidence_confirm <= confidence_accept"
                            f" {_from(origin, 'audio.confidence_confirm', 'audio.confidence_accept')}")
    kiosk = data["kiosk"]
    if kiosk["idle_warning_s"] >= kiosk["idle_timeout_s"]:
        raise SettingsError("kiosk: need idle_warning_s < idle_timeout_s"
                            f" {_from(origin, 'kiosk.idle_warning_s', 'kiosk.idle_timeout_s')}")
    n = data["password_hash"]["n"]
    if n & (n - 1):
        raise _bad("password_hash.n", "a power of two (scrypt)", n, origin)
    if not re.fullmatch(r"[A-Z]{3}", data["currency"]):
        raise _bad("currency", "a three-letter ISO 4217 code such as USD", data["currency"], origin)
    _check_timezone(data["timezone"], origin)
    if not re.fullmatch(r"0?[0-7]{3}", data["umask"]) or int(data["umask"], 8) & 0o700:
        raise _bad("umask", "octal text such as \"077\" that leaves the owner's access", data["umask"],
                   origin)


def _check_timezone(name: str, origin: Origin) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("timezone", "a time zone name such as America/New_York", name, origin) from None
