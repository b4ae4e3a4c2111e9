"""``validate`` and ``compare`` (cross-validation on the support set), ``rank`` and ``embed`` (a model's view of
unlabelled images: which to label next, and a 2-D map).

``validate SUPPORT_DIR --backbone B --algorithm A [--param k=v] [--folds auto|loo|N] [--json]``
``compare SUPPORT_DIR --algorithm a --algorithm b --backbone x [--backbone y] [--folds ...] [--json]``
(every algorithm with every backbone). Both take ``--unlabelled DIR... [--domain-adaptation S,...]``, as adapt
does: each fold then adapts with that pool and those stages.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (Command, ProgressBar, add_unlabelled, bad_input, combine, device_option, follow, json_option,
                     load_support, method_options, model_argument, param_option, parse_params,
                     print_json, quiet_option, seed_int, stages_option, support_argument, unlabelled_options, warn,
                     warn_skipped)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def format_result(r) -> str:
    low, high = r.ci95
    names = r.class_names
    w = max(12, *(len(n) for n in names)) + 2
    stages = "".join(f" + {s}" for s in r.domain_adaptation)
    pool = f", {r.unlabelled} unlabelled images in every fold" if r.unlabelled else ""
    lines = [f"cross-validation: {r.scheme}, {r.n} images{pool}, {r.backbone}{stages} + {r.method} "
             f"({r.seconds:.1f} s on {r.device})",
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
    return "\n".join(lines + [""] + format_calibration(r))


def format_calibration(r) -> list[str]:
    """The expected calibration error before and after the fitted temperature, and the reliability bins."""
    cal = r.calibration()
    if not cal.calibrated:
        return ["calibration: no held-out logits"]
    lines = [f"calibration: expected calibration error {cal.ece_before:.3f} before, {cal.ece_after:.3f} after "
             f"temperature {cal.temperature:.3g} (fitted on these {cal.images} held-out predictions)",
             f"{'confidence':<14}{'images':>7}{'accuracy':>10}{'mean conf.':>12}{'after: images':>15}{'accuracy':>10}"]
    for b, a in zip(r.reliability(1.0), r.reliability(cal.temperature)):
        if not b["count"] and not a["count"]:
            continue
        acc = "-" if b["accuracy"] is None else _pct(b["accuracy"])
        conf = "-" if b["confidence"] is None else _pct(b["confidence"])
        acc2 = "-" if a["accuracy"] is None else _pct(a["accuracy"])
        span = f"{b['low']:.0%}-{b['high']:.0%}"
        lines.append(f"{span:<14}{b['count']:>7}{acc:>10}{conf:>12}{a['count']:>15}{acc2:>10}")
    return lines


def cmd_validate(args) -> int:
    from ..core.runs import Stage
    from ..core.validation import CrossValidation, FoldDone

    support = load_support(args.support)
    if problem := add_unlabelled(support, args):
        return bad_input(problem)
    cv = CrossValidation(support, args.backbone, args.algorithm, parse_params(args), folds=args.folds,
                         weights=args.weights or "pretrained", device=args.device, seed=args.seed,
                         domain_adaptation=stages_option(args))
    with ProgressBar(cv.total_folds, quiet=args.quiet, unit="fold") as bar:
        def fold(event) -> None:
            bar.describe(f"fold {event.fold}/{event.total}", acc=f"{event.correct / max(1, event.seen):.0%}")
            bar.advance_to(event.fold)

        follow(cv, {FoldDone: fold, Stage: lambda e: bar.stage(e, counts=False)}, command="validate")
    r = cv.result
    if args.json:
        out = r.to_dict()
        out["open_set"] = r.open_set_rule(enabled=False).to_dict()
        print_json(out)
    else:
        print(format_result(r))
    return 0


def candidates(backbones: list[str], algorithms: list[str], assignments: list[str]):
    """Every algorithm with every backbone; ``NAME=VALUE`` goes to each algorithm that has NAME."""
    from ..core.algorithms import get_method
    from ..core.errors import ParameterError
    from ..core.params import parse_assignments
    from ..core.validation import Candidate

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
    from ..core.validation import CandidateStarted, Comparison

    support = load_support(args.support)
    if problem := add_unlabelled(support, args):
        return bad_input(problem)
    cands = candidates(args.backbone or ["efficientnet_lite0"], args.algorithm or ["prototypical", "linear_probe"],
                       args.param or [])
    comparison = Comparison(support, cands, folds=args.folds, device=args.device, seed=args.seed,
                            domain_adaptation=stages_option(args))
    with ProgressBar(len(cands), quiet=args.quiet, unit="fold", desc="comparing") as bar:
        def started(event) -> None:
            bar.describe(f"{event.candidate.label} ({event.index + 1}/{event.total})")
            bar.advance_to(event.index)

        follow(comparison, {CandidateStarted: started}, command="compare")
        bar.advance_to(len(cands))
    rows, best = comparison.rows, comparison.best
    if best is None:
        return bad_input("no candidate could be cross-validated: " + "; ".join(f"{r.candidate.label}: {r.error}"
                                                                               for r in rows))
    if args.json:
        print_json({"rows": [r.to_dict() for r in rows], "best": best.to_dict()})
    else:
        print(format_comparison(rows, best))
    return 0


def cmd_rank(args) -> int:
    from ..core.classifier import FewShotClassifier
    from ..core.label_next import RankRun

    if args.top is not None and args.top < 1:
        return bad_input("--top must be at least 1")
    clf = FewShotClassifier.load(args.model, device=args.device)
    run = RankRun(clf, args.paths, by=args.by, diversity=args.diversity)
    follow(run, {}, command="rank")
    ranking = run.result
    warn_skipped(ranking.skipped)
    if ranking.already_labelled:
        n = len(ranking.already_labelled)
        warn(f"{n} image{'s are' if n != 1 else ' is'} already among the model's support images; left out")
    items = ranking.top(args.top)
    if args.json:
        print_json([i.to_dict() for i in items])
        return 0
    for i in items:
        print(f"{i.rank:>4}  {i.score:.3f}  {i.label} {i.confidence:.0%}  {i.path}")
    return 0


def cmd_embed(args) -> int:
    if args.output is not None and Path(args.output).suffix.lower() not in (".csv", ".json"):
        return bad_input(f"{args.output}: the map is written as .csv or .json; give a file name ending in one of those")
    if args.output is not None:
        from ..core.safe_write import check_output

        check_output(args.output, inputs=[("the model", args.model)] + [("an image to map", p) for p in args.paths])
    from ..core.classifier import FewShotClassifier  # torch: after the checks that need none
    from ..core.embedding_map import EmbeddingMapRun

    clf = FewShotClassifier.load(args.model, device=args.device)
    run = EmbeddingMapRun(clf, args.paths, method=args.method, include_support=not args.no_support, seed=args.seed)
    follow(run, {}, command="embed")
    result = run.result
    warn_skipped(result.skipped)
    if args.output is None:
        print(result.to_csv(), end="")
        return 0
    path = result.save(args.output)
    n_support = result.kinds.count("support")
    axes = (f"; the axes hold {result.explained[0]:.0%} and {result.explained[1]:.0%} of the variance"
            if result.explained else "")
    print(f"saved {path}: {len(result)} points ({n_support} support, {len(result) - n_support} query), "
          f"{'t-SNE' if args.method == 'tsne' else 'PCA'}{axes}")
    return 0


# --- options -------------------------------------------------------------------------------------------------
def _folds_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--folds", default="auto", help="auto (default: leave-one-out up to 50 images with a frozen "
                   "backbone, else stratified 5-fold), loo, or a number of folds")


def _seed_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed_int, default=0, help="random seed for the folds and the methods (default 0)")


def cross_validation_options() -> argparse.ArgumentParser:
    """What ``validate`` and ``compare`` share: the support set, the folds, and how to run."""
    return combine(support_argument(), param_option(), unlabelled_options(), _folds_option, device_option(),
                   _seed_option, json_option(), quiet_option())


def _validate_weights(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", help="backbone weights: pretrained (default), random, or a weights file")


def _compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", action="append", help="a backbone to try (repeatable; default efficientnet_lite0)")
    p.add_argument("--algorithm", action="append", help="a method to try (repeatable; default prototypical and "
                   "linear_probe)")


def _rank_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", metavar="FOLDER", nargs="+", help="folders of unlabelled images (or image files)")
    p.add_argument("--by", choices=("margin", "entropy"), default="margin",
                   help="margin (default): how close the two likeliest classes are; entropy: how spread the "
                   "probabilities are over all classes")
    p.add_argument("--top", type=int, metavar="N", help="list only the first N images")
    p.add_argument("--diversity", type=float, default=0.3, metavar="W",
                   help="0..1: how strongly near-duplicates are moved down the list (default 0.3; 0: off)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {rank, path, score, margin, "
                   "entropy, label, confidence, top_k}")


def _embed_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", metavar="IMAGES", nargs="*", help="query images or folders (optional)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="pca (default) or tsne (needs scikit-learn: pip install 'fewshot-studio[tsne]')")
    p.add_argument("--no-support", action="store_true", help="map only the query images")
    p.add_argument("--seed", type=seed_int, default=0, help="t-SNE's random seed (default 0)")
    p.add_argument("--output", "-o", metavar="MAP", help="map.csv or map.json (default: CSV on standard output)")


def commands() -> tuple[Command, ...]:
    return (
        Command("validate", cmd_validate, "cross-validate a method on a support set: overall accuracy with its "
                "confidence interval, accuracy per class, the confusion matrix and the misclassified images",
                (cross_validation_options(), method_options(), _validate_weights)),
        Command("compare", cmd_compare, "cross-validate every --algorithm with every --backbone on the same support "
                "set and rank them by accuracy (with confidence intervals and time taken)",
                (cross_validation_options(), _compare_options)),
        Command("rank", cmd_rank, "rank unlabelled images by how much labelling each would help the model "
                "(most uncertain first)", (model_argument(), _rank_options, device_option())),
        Command("embed", cmd_embed, "2-D map of a model's support images and of query images (PCA or t-SNE), "
                "as CSV or JSON", (model_argument(), _embed_options, device_option())),
    )
