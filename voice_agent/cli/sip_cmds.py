"""Subcommands of this group are added here by their feature."""


def register(sub, common) -> None:
    return None
