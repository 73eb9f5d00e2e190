"""`voice-agent config show`: the effective settings, secrets masked."""
from __future__ import annotations

import argparse

from voice_agent.languages import find_language
from voice_agent.settings import Settings


def register(sub, common: argparse.ArgumentParser) -> None:
    config = sub.add_parser("config", help="settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = config_sub.add_parser("show", parents=[common], help="print the effective settings")
    show.set_defaults(func=cmd_show)


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    print(settings.to_json())
    print(f"# sources: {', '.join(settings.source)}")
    # `locales` and `voices` hold only overrides; show what each language really uses.
    for lang in settings.languages:
        known = find_language(lang)
        name = f" {known.name}" if known else f" (no locales/{lang}/language.toml)"
        print(f"# {lang}{name}: babel locale {settings.locale(lang)}, voice {settings.voice(lang)}")
    return 0
