"""Logging for the `voice-agent` command, set up once per process by ``cli.main``.

Commands that use the store log to ``settings.log_path`` (default ``<database>.log``) at INFO,
one line per record with a UTC ISO-8601 timestamp; warnings and errors also reach stderr as one
line each, without a traceback (the traceback goes to the file). Code never logs what a caller
said or keyed; as a safety net, ``DigitMask`` masks every run of four or more digits (spaces,
dashes and dots between digits count as one run; ``voice_agent.redact.mask_digits``) in
messages and tracebacks before any handler writes them, so a card number, PIN or SSN digits
inside an exception message stay out. Records of the phone line (``voice_agent.sip``) are masked
by ``voice_agent.redact.mask_sip_log`` instead: it masks the same runs and the caller's number and
keys, but keeps the addresses, ports and status codes an operator needs.

The file is opened on the first record, and a log that cannot be written (read-only or full
disk) never stops a command: the record is dropped and ``LogFile.problem`` says why.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

# The masking rules live there; cli uses logs.mask_digits.
from voice_agent.redact import mask_digits, mask_sip_log

SIP_LOGGER = "voice_agent.sip"

LOGGER = "voice_agent"
# Commands that never open the database: they write the log only for warnings and errors, unless
# log_path was set explicitly.
NO_STORE = frozenset({"config", "understand", "transcribe", "say", "models"})


class DigitMask(logging.Filter):
    """Renders a record's message and traceback once, masked, so no handler sees the clear text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_digits_masked", False):
            return True
        sip = record.name == SIP_LOGGER or record.name.startswith(SIP_LOGGER + ".")
        mask = mask_sip_log if sip else mask_digits
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        record._digits_masked = True
        return True


class UtcFormatter(logging.Formatter):
    """``2026-11-25T14:25:25.123Z INFO voice_agent.x: message`` (then the traceback, if any)."""

    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class LogFile(logging.FileHandler):
    """A file handler that opens on first use and never raises or prints when it cannot write."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), encoding="utf-8", delay=True)
        self.path = path
        self.problem: str | None = None
        self.written = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            logging.StreamHandler.emit(self, record)
            self.flush()
            self.written = True
        except (OSError, ValueError) as exc:
            self.problem = getattr(exc, "strerror", None) or str(exc)
            if self.stream is not None:
                try:
                    self.stream.close()
                except OSError:
                    pass
                self.stream = None

    def handleError(self, record: logging.LogRecord) -> None:   # StreamHandler.emit's path
        self.problem = self.problem or "cannot write"


class OneLine(logging.Formatter):
    """stderr: ``voice-agent: warning: message`` - the traceback stays in the log file."""

    def __init__(self, log_file: LogFile | None) -> None:
        super().__init__()
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        where = ""
        if record.exc_text and self.log_file is not None:
            where = f" (details in {self.log_file.path})"
        return f"voice-agent: {record.levelname.lower()}: {record.getMessage()}{where}"


def setup(command: str | None, settings=None) -> LogFile | None:
    """Configure the ``voice_agent`` logger for this process; returns the log file handler."""
    logger = logging.getLogger(LOGGER)
    for old in list(logger.handlers):          # main() may run more than once in one process
        logger.removeHandler(old)
        old.close()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    mask = DigitMask()
    log_file = None
    if settings is not None:
        log_file = LogFile(settings.log_path)
        if command in NO_STORE and not settings.data.get("log_path"):
            log_file.setLevel(logging.WARNING)     # only a problem opens the file
        log_file.addFilter(mask)
        log_file.setFormatter(UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(log_file)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.addFilter(mask)
    console.setFormatter(OneLine(log_file))
    logger.addHandler(console)
    return log_file
