"""`voice-agent config show`: the effective settings, secrets masked."""
from __future__ import annotations

import argparse

from voice_agent.settings import Settings


def register(sub, common: argparse.ArgumentParser) -> None:
    config = sub.add_parser("config", help="settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = config_sub.add_parser("show", parents=[common], help="print the effective settings")
    show.set_defaults(func=cmd_show)


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    print(settings.to_json())
    print(f"# sources: {', '.join(settings.source)}")
    return 0
