"""``backbones``, ``algorithms`` and ``import-weights``: what the studio can use, and weights for it."""

from __future__ import annotations

import argparse

from .common import Command, json_option, print_json


def cmd_backbones(args) -> int:
    from ..core.backbones import list_backbones

    specs = list_backbones()
    if args.json:
        print_json([s.to_dict() for s in specs])
        return 0
    for s in specs:
        status = s.weights_status()
        mark = "offline" if status.available else (status.detail.replace("; run:", ":")
                                                    if status.detail.startswith("not installed") else
                                                    "needs download or import")
        dim = s.feature_dim if s.feature_dim is not None else "?"
        print(f"{s.name:<22} {s.preprocess.input_size:>4}px  {dim!s:>5}-d  [{mark}]  {s.description}")
    return 0


def cmd_algorithms(args) -> int:
    from ..core.algorithms import list_methods
    from ..core.params import BACKBONE_KINDS

    methods = list_methods()
    if args.json:  # "default" is the plain default; "defaults_by_kind" what applies on each kind of backbone
        print_json([{"name": m.name, "title": m.title, "description": m.description,
                     "params": [{"name": p.name, "type": p.type.__name__, "default": p.default,
                                 "help": p.help, "low": p.low, "high": p.high,
                                 "choices": list(p.choices) if p.choices else None,
                                 "defaults_by_kind": {k: p.default_for(k) for k in BACKBONE_KINDS}}
                                for p in m.param_specs()]} for m in methods])
        return 0
    for m in methods:
        print(f"{m.name:<16} {m.title}: {m.description}")
        for p in m.param_specs():
            extra = f" ({'/'.join(p.choices)})" if p.choices else ""
            by_kind = "".join(f"; {value} on a {kind} backbone" for kind, value in p.by_kind)
            print(f"    {p.name}={p.default}{extra}  {p.help}{f' [{by_kind[2:]}]' if by_kind else ''}")
    return 0


def cmd_import_weights(args) -> int:
    from ..core.backbones import import_weights

    target = import_weights(args.backbone, args.file)
    print(f"{args.backbone}: weights checked and stored at {target}; they are used from now on, offline")
    return 0


def _import_weights_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("backbone", metavar="BACKBONE")
    p.add_argument("file", metavar="FILE", help=".pth state dict or .safetensors")


def commands() -> tuple[Command, ...]:
    return (
        Command("backbones", cmd_backbones, "list the backbones (feature extractors)", (json_option(),)),
        Command("algorithms", cmd_algorithms, "list the methods and their hyperparameters", (json_option(),)),
        Command("import-weights", cmd_import_weights, "use a local weights file for a backbone (works offline)",
                (_import_weights_options,)),
    )
