"""``sort``: put a folder of new images into one folder per class (and an "unsure" folder), with a CSV report."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import Command, ProgressBar, device_option, follow, quiet_option

MSG_FEW_PATHS = "give the input folders and then the output folder: fewshot-studio sort MODEL IN... OUT_DIR"


def cmd_sort(args) -> int:
    from ..core.errors import FewShotError
    from ..core.sort import FileSorted, SortRun
    from .adapt import load_model_or_project

    if len(args.paths) < 2:
        raise FewShotError(MSG_FEW_PATHS)
    *inputs, out_dir = args.paths
    if args.min_confidence is not None and args.min_confidence > 1:
        args.min_confidence /= 100  # --min-confidence 60 means 60 %
    clf = load_model_or_project(args.model, args.device)
    run = SortRun(clf, inputs, out_dir, mode=args.mode, min_confidence=args.min_confidence or 0.0,
                  dry_run=args.dry_run, csv_path=args.csv)
    with ProgressBar(0, quiet=args.quiet, unit="image", desc="sorting") as bar:
        def sorted_one(event) -> None:
            bar.set_total(event.total)
            bar.describe(Path(event.row.path).name[:30])
            bar.advance_to(event.done)

        follow(run, {FileSorted: sorted_one}, command="sort")
    result = run.result
    counts = ", ".join(f"{name} {n}" for name, n in result.counts.items())
    verb = {"copy": "copied", "move": "moved", "link": "linked"}[args.mode]
    what = f"would have {verb}" if args.dry_run else verb
    stopped = " (cancelled)" if result.cancelled else ""
    report = f"; report {args.csv}" if args.csv else ""
    print(f"{what} {result.sorted_files} of {result.total} files into {out_dir}{stopped}: {counts}{report}")
    return 0


def _sort_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a saved model (.safetensors) or a project with a model (.fsproj)")
    p.add_argument("paths", metavar="PATH", nargs="+", help="the folders (or files) of images to sort (IN...), and "
                   "last the output folder OUT_DIR (one folder per class and 'unsure' are made in it)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", dest="mode", action="store_const", const="copy", help="copy the files (default)")
    mode.add_argument("--move", dest="mode", action="store_const", const="move", help="move them (across file "
                      "systems: copy, verify, then delete the original)")
    mode.add_argument("--link", dest="mode", action="store_const", const="link", help="symbolic links to them")
    p.set_defaults(mode="copy")
    p.add_argument("--min-confidence", type=float, metavar="P", help="below this confidence (0..1, or a "
                   "percentage) a file goes to 'unsure' (default 0: only open-set rejections do)")
    p.add_argument("--csv", type=Path, metavar="REPORT.csv", help="write a report: path, destination, label, "
                   "confidence, action, reason")
    p.add_argument("--dry-run", action="store_true", help="decide and report, move nothing")


def commands() -> tuple[Command, ...]:
    return (Command("sort", cmd_sort, "sort images into one folder per class (and 'unsure') with a saved model",
                    (_sort_options, device_option(), quiet_option())),)
