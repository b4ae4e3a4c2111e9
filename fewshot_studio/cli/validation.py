"""The command line's ``validate`` and ``compare`` commands: cross-validation on the support set.

``validate SUPPORT_DIR --backbone B --algorithm A [--param k=v] [--folds auto|loo|N] [--json]``
``compare SUPPORT_DIR --algorithm a --algorithm b --backbone x [--backbone y] [--folds ...] [--json]``
(every algorithm with every backbone).
"""

from __future__ import annotations

import json
import sys

from .cli import _bad, _load_support, _warn


def _bar(total: int, quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="fold", file=sys.stderr, disable=True if quiet else None, dynamic_ncols=True,
                desc=desc, mininterval=0.1 if sys.stderr.isatty() else 2.0)


def _iterate(cv, bar, prefix: str = "") -> None:
    from .core.runs import Stage
    from .core.validation import FoldDone

    for event in cv:
        if isinstance(event, FoldDone):
            bar.set_description(f"{prefix}fold {event.fold}/{event.total}")
            bar.set_postfix(acc=f"{event.correct / max(1, event.seen):.0%}", refresh=False)
            bar.update(event.fold - bar.n)
        elif isinstance(event, Stage):
            bar.set_description(f"{prefix}{event.name}")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def format_result(r) -> str:
    low, high = r.ci95
    names = r.class_names
    w = max(12, *(len(n) for n in names)) + 2
    lines = [f"cross-validation: {r.scheme}, {r.n} images, {r.backbone} + {r.method} ({r.seconds:.1f} s on {r.device})",
             f"accuracy {_pct(r.accuracy)} (95% CI {_pct(low)} to {_pct(high)}), {r.correct} of {r.n} right", "",
             f"{'class':<{w}}{'images':>7}{'right':>7}{'accuracy':>10}{'precision':>11}"]
    for c in r.per_class():
        prec = "-" if c["precision"] is None else _pct(c["precision"])
        lines.append(f"{c['name']:<{w}}{c['images']:>7}{c['correct']:>7}{_pct(c['accuracy']):>10}{prec:>11}")
    cw = max(8, *(len(n) for n in names)) + 2
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)",
              " " * w + "".join(f"{n:>{cw}}" for n in names)]
    for name, row in zip(names, r.confusion()):
        lines.append(f"{name:<{w}}" + "".join(f"{v:>{cw}}" for v in row))
    wrong = r.misclassified()
    lines += ["", f"misclassified: {len(wrong)}" + (" (path: true -> predicted, confidence)" if wrong else "")]
    lines += [f"  {m.path}: {m.true} -> {m.predicted}, {m.confidence:.0%}" for m in wrong]
    return "\n".join(lines)


def cmd_validate(args) -> int:
    from .core.params import parse_assignments
    from .core.validation import CrossValidation

    support, skipped = _load_support(args.support)
    for s in skipped:
        _warn(f"skipped {s}")
    cv = CrossValidation(support, args.backbone, args.algorithm, parse_assignments(args.param or []),
                         folds=args.folds, weights=args.weights or "pretrained", device=args.device,
                         seed=args.seed)
    bar = _bar(cv.total_folds, args.quiet, "preparing")
    try:
        _iterate(cv, bar)
    finally:
        bar.close()
    r = cv.result
    if args.json:
        out = r.to_dict()
        out["open_set"] = r.open_set_rule(enabled=False).to_dict()
        print(json.dumps(out, indent=2))
    else:
        print(format_result(r))
    return 0


def candidates(backbones: list[str], algorithms: list[str], assignments: list[str]):
    """Every algorithm with every backbone; ``NAME=VALUE`` goes to each algorithm that has NAME."""
    from .core.algorithms import get_method
    from .core.errors import ParameterError
    from .core.params import parse_assignments
    from .core.validation import Candidate

    values = parse_assignments(assignments)
    per_method, used = {}, set()
    for a in algorithms:
        names = {s.name for s in get_method(a).param_specs()}
        per_method[a] = {k: v for k, v in values.items() if k in names}
        used |= set(per_method[a])
    unused = sorted(set(values) - used)
    if unused:
        raise ParameterError(f"no chosen algorithm takes {', '.join(unused)}; see: fewshot-studio algorithms")
    return [Candidate(b, a, per_method[a]) for b in backbones for a in algorithms]


def format_comparison(rows, best) -> str:
    done = sorted((r for r in rows if r.result is not None), key=lambda r: (-r.result.accuracy, r.result.seconds))
    w1 = max(8, *(len(r.candidate.method) for r in rows)) + 2
    w2 = max(10, *(len(r.candidate.backbone) for r in rows)) + 2
    lines = [f"{'method':<{w1}}{'backbone':<{w2}}{'accuracy':>9}  {'95% CI':<17}{'time':>8}  scheme"]
    for r in done:
        low, high = r.result.ci95
        mark = "  <- best" if r is best else ""
        lines.append(f"{r.candidate.method:<{w1}}{r.candidate.backbone:<{w2}}{_pct(r.result.accuracy):>9}  "
                     f"{_pct(low) + ' to ' + _pct(high):<17}{r.result.seconds:>7.1f}s  {r.result.scheme}{mark}")
    for r in rows:
        if r.result is None:
            lines.append(f"{r.candidate.method:<{w1}}{r.candidate.backbone:<{w2}}   failed: {r.error}")
    return "\n".join(lines)


def cmd_compare(args) -> int:
    from .core.validation import CandidateStarted, Comparison

    support, skipped = _load_support(args.support)
    for s in skipped:
        _warn(f"skipped {s}")
    cands = candidates(args.backbone or ["efficientnet_lite0"], args.algorithm or ["prototypical", "linear_probe"],
                       args.param or [])
    comparison = Comparison(support, cands, folds=args.folds, device=args.device, seed=args.seed)
    bar = _bar(len(cands), args.quiet, "comparing")
    try:
        for event in comparison:
            if isinstance(event, CandidateStarted):
                bar.set_description(f"{event.candidate.label} ({event.index + 1}/{event.total})")
                bar.update(event.index - bar.n)
        bar.update(len(cands) - bar.n)
    finally:
        bar.close()
    rows, best = comparison.rows, comparison.best
    if best is None:
        return _bad("no candidate could be cross-validated: " + "; ".join(f"{r.candidate.label}: {r.error}"
                                                                          for r in rows))
    if args.json:
        print(json.dumps({"rows": [r.to_dict() for r in rows], "best": best.to_dict()}, indent=2))
    else:
        print(format_comparison(rows, best))
    return 0


def add_commands(add, device_opt) -> None:
    """Register ``validate`` and ``compare`` on the main parser (``add(name, func, help)`` makes a subparser)."""
    from pathlib import Path

    def common(p):
        p.add_argument("support", metavar="SUPPORT_DIR", type=Path, help="folder with one sub-folder of images per "
                       "class (or a support-set .json)")
        p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a hyperparameter (repeatable)")
        p.add_argument("--folds", default="auto", help="auto (default: leave-one-out up to 50 images with a frozen "
                       "backbone, else stratified 5-fold), loo, or a number of folds")
        device_opt(p)
        p.add_argument("--seed", type=int, default=0, help="random seed for the folds and the methods (default 0)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("validate", cmd_validate, "cross-validate a method on a support set: overall accuracy with its confidence "
            "interval, accuracy per class, the confusion matrix and the misclassified images")
    common(p)
    p.add_argument("--backbone", default="efficientnet_lite0", help="see: fewshot-studio backbones")
    p.add_argument("--algorithm", default="prototypical", help="see: fewshot-studio algorithms")
    p.add_argument("--weights", help="backbone weights: pretrained (default), random, or a weights file")

    p = add("compare", cmd_compare, "cross-validate every --algorithm with every --backbone on the same support set "
            "and rank them by accuracy (with confidence intervals and time taken)")
    common(p)
    p.add_argument("--backbone", action="append", help="a backbone to try (repeatable; default efficientnet_lite0)")
    p.add_argument("--algorithm", action="append", help="a method to try (repeatable; default prototypical and "
                   "linear_probe)")
