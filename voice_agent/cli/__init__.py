"""The `voice-agent` command: parses arguments, builds the settings once, dispatches.

Each group of subcommands lives in its own module with a ``register(sub, common)`` function that
adds its parsers; a parser's ``func(args, settings) -> int`` does the work. ``common`` carries the
options every subcommand takes after its name: ``--config``, ``--db`` and ``--set``.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sqlite3
import sys

from voice_agent.cli import logs
from voice_agent.settings import Settings, SettingsError, load_settings

log = logging.getLogger("voice_agent.cli")

COMMAND_MODULES = (
    "voice_agent.cli.config_cmds",
    "voice_agent.cli.store_cmds",
    "voice_agent.cli.cases_cmds",
    "voice_agent.cli.report_cmds",
    "voice_agent.cli.nlu_cmds",
    "voice_agent.cli.chat_cmds",
    "voice_agent.cli.voice_cmds",
    "voice_agent.cli.sip_cmds",
)


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2 unless given."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="settings file (TOML)")
    common.add_argument("--db", metavar="PATH", help="database file")
    common.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                        dest="set_values", help="override one setting (repeatable)")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voice-agent", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    cli = {"database": getattr(args, "db", None)}
    return load_settings(config=getattr(args, "config", None), cli=cli,
                         sets=getattr(args, "set_values", None))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    settings = None
    log_file = None
    old_umask = None
    try:
        settings = settings_from_args(args)
        # Before anything is written: every file this process makes (the database and the
        # -wal/-shm files SQLite makes itself, the log, key files, transcripts, reply audio,
        # settlement files, the checkpoint) is owner-only under the default "077".
        old_umask = os.umask(int(settings["umask"], 8))
        log_file = logs.setup(args.command, settings)
        status = int(args.func(args, settings) or 0)
        log.info("%s finished with status %d", args.command, status)
        return status
    except SettingsError as exc:
        print(f"voice-agent: settings: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"voice-agent: {exc}", file=sys.stderr)
        return exc.status
    except _store_error() as exc:
        # A refused store (no database at the path, a newer schema, key files not its own): the
        # message names the file and what to do.
        print(f"voice-agent: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        # A database that cannot be opened or written (corrupt, read-only, disk full): one line,
        # not a traceback. Every write is one transaction, so what was committed stays intact.
        print(f"voice-agent: database {settings.database}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a fault in our code: one line here, the traceback in the log
        return unexpected(args.command, exc, log_file)
    finally:
        if old_umask is not None:       # main() may run inside another program (the tests)
            os.umask(old_umask)


def _store_error() -> type[Exception]:
    """The store's refusal type, imported only while an exception is being matched: most
    commands never load the store."""
    from voice_agent.store.models import StoreError
    return StoreError


def unexpected(command: str, exc: Exception, log_file) -> int:
    """Report an unexpected exception in one line; its traceback goes to the log file (masked)."""
    what = logs.mask_digits(f"{type(exc).__name__}: {exc}")[:300]
    logger = logging.getLogger(logs.LOGGER)
    handlers = [h for h in logger.handlers if h is not log_file]
    for h in handlers:                     # the traceback goes to the file only
        logger.removeHandler(h)
    log.error("%s failed", command, exc_info=exc)
    if log_file is not None and log_file.written and log_file.problem is None:
        where = f"the details are in {log_file.path}"
    elif log_file is not None:
        where = f"the log {log_file.path} could not be written ({log_file.problem})"
    else:
        where = "the details were not logged (the settings could not be read)"
    print(f"voice-agent: {command} stopped on an unexpected error ({what}); {where}",
          file=sys.stderr)
    return 1
