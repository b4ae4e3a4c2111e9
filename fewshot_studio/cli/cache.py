"""``cache``: the feature cache on disk (how big it is, how many images it knows; ``--clear`` empties it)."""

from __future__ import annotations

import argparse
import json

from .common import Command, json_option


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def cmd_cache(args) -> int:
    from ..core.feature_store import ENV_CACHE_MB, feature_store

    store = feature_store()
    before = store.info()
    if args.clear:
        store.clear()
    info = store.info()
    if args.json:
        out = info.as_dict()
        if args.clear:
            out["cleared_entries"] = before.entries
        print(json.dumps(out, indent=2))
        return 0
    if args.clear:
        print(f"cleared the feature cache: {before.entries} images, {_mib(before.bytes)} of features")
    state = "off" if info.limit_bytes == 0 else f"limit {_mib(info.limit_bytes)}"
    print(f"feature cache {info.path}: {info.entries} images, {_mib(info.bytes)} of features "
          f"({_mib(info.file_bytes)} on disk, {state}; set ${ENV_CACHE_MB} to change)")
    return 0


def _cache_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clear", action="store_true", help="delete every cached feature (images are embedded again "
                   "the next time they are used)")


def commands() -> tuple[Command, ...]:
    return (Command("cache", cmd_cache, "the feature cache on disk: its size and entries; --clear empties it",
                    (_cache_options, json_option())),)
