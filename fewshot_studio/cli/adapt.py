"""``adapt``, ``predict``, ``inspect`` and ``demo``: make a classifier from a support set, and use it."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from .common import (Command, ProgressBar, add_unlabelled, bad_input, device_option, follow, json_option,
                     load_support, method_options, model_argument, param_option, parse_params,
                     positive_int, print_json, quiet_option, seed_int, stages_option, support_argument,
                     unlabelled_options, warn, warn_skipped)


def method_values(method: str, args) -> dict:
    """The method's hyperparameters from ``--param`` and ``--steps``."""
    from ..core.algorithms import get_method
    from ..core.errors import ParameterError

    values = parse_params(args)
    if args.steps is not None:
        cls = get_method(method)
        if not cls.steps_param:
            raise ParameterError(f"--steps does not apply to {method}")
        values[cls.steps_param] = str(args.steps)
    return values


def adapt_with_bar(run, quiet: bool):
    """Follow an :class:`~fewshot_studio.core.engine.AdaptRun` on a progress bar; returns its last Progress."""
    from ..core.runs import Progress, Stage

    with ProgressBar(run.method.total_steps(), quiet=quiet) as bar:
        return follow(run, {Progress: lambda e: bar.step(e, f"adapting on {e.device}"), Stage: bar.stage},
                      command="adapt")


def cmd_adapt(args) -> int:
    from ..core.safe_write import check_output

    check_output(args.output, suffix=".safetensors")  # before loading anything: a bad --output is said at once
    support = load_support(args.support)
    if problem := add_unlabelled(support, args):
        return bad_input(problem)
    check_output(args.output, inputs=[("a support image", p) for p, _ in support.samples()]
                 + [("an unlabelled image", p) for p in support.unlabelled])
    from ..core.engine import AdaptRun  # torch: after the checks that need none

    values = method_values(args.algorithm, args)
    run = AdaptRun(support, args.backbone, args.algorithm, values, weights=args.weights or "pretrained",
                   device=args.device, seed=args.seed, domain_adaptation=stages_option(args),
                   calibrate=getattr(args, "calibrate", None))
    last = adapt_with_bar(run, args.quiet)
    if getattr(args, "open_set", False):  # "None of these": threshold calibrated by cross-validation
        from ..core.validation import CrossValidation

        cv = CrossValidation(support, args.backbone, args.algorithm, values, weights=args.weights or "pretrained",
                             device=args.device, seed=args.seed)
        cv.run()
        run.result.open_set = cv.result.open_set_rule(enabled=True)
        print(f"open set: images less similar than {run.result.open_set.threshold:.3f} to every support image "
              f"are reported as unknown ({cv.result.scheme}, {cv.result.n} held-out images)")
    path = run.result.save(args.output)
    summary = ", ".join(f"{c['name']} ({c['images']})" for c in support.summary()["classes"])
    acc = f", support accuracy {last.accuracy:.0%}" if last else ""
    pool = f", {len(support.unlabelled)} unlabelled" if support.unlabelled else ""
    stages = f" + {'+'.join(s.name for s in run.stages)}" if run.stages else ""
    print(f"saved {path}: {len(support)} classes [{summary}]{pool}, {args.backbone}{stages} + {args.algorithm}"
          f"{acc}, {run.result.info['seconds']:.1f} s on {last.device if last else args.device}")
    print(f"confidence: {describe_calibration(run.result.calibration)}")
    return 0


def describe_calibration(cal) -> str:
    """One line: the temperature and the held-out calibration error it brought, or "uncalibrated"."""
    if not cal.calibrated:
        return "uncalibrated (probabilities are the method's softmax; adapt --calibrate fits a temperature)"
    ece = (f"; held-out calibration error {cal.ece_before:.3f} -> {cal.ece_after:.3f}"
           if cal.ece_before is not None else "")
    return f"calibrated, temperature {cal.temperature:.3g} ({cal.method}, {cal.images} images{ece})"


def print_predictions(preds, as_json: bool) -> None:
    if as_json:
        print_json([p.to_dict() for p in preds])
        return
    width = max((len(p.path) for p in preds), default=0)
    for p in preds:
        others = ", ".join(f"{c} {s:.0%}" for c, s in p.top_k[1:])
        if p.unknown:  # open set: unlike every class; the best guesses stay in brackets
            others = ", ".join(f"{c} {s:.0%}" for c, s in p.top_k)
            print(f"{p.path:<{width}}  unknown  similarity {p.similarity:.3f}   ({others})")
            continue
        print(f"{p.path:<{width}}  {p.label}  {p.confidence:.1%}" + (f"   ({others})" if others else ""))


MSG_PROJECT_NO_MODEL = ("{path}: this project has no model; open it in the studio, press Adapt and save it, or "
                        "give a model file saved with: fewshot-studio adapt ... --output model.safetensors")
MSG_PROJECT_CHANGED = ("{path}: the support set changed since this model was adapted; its answers leave out the "
                       "changes (open the project in the studio and adapt again)")


def load_model_or_project(path: str, device: str):
    """The classifier in a model file, or the model a project (.fsproj) keeps."""
    from ..core.classifier import FewShotClassifier
    from ..core.project import SUFFIX, ProjectError, open_project

    if Path(path).suffix.lower() != SUFFIX:
        return FewShotClassifier.load(path, device=device)
    project = open_project(path)
    if project.model is None:
        raise ProjectError(project.model_problem or MSG_PROJECT_NO_MODEL.format(path=path))
    if project.model.status == "changed":
        warn(MSG_PROJECT_CHANGED.format(path=path))
    return project.load_model(device=device)


def cmd_predict(args) -> int:
    from ..core.algorithms import TransductiveFallback

    clf = load_model_or_project(args.model, args.device)
    if getattr(args, "open_set", None) and clf.open_set is None:  # a model saved without a threshold
        from ..core.openset import calibrate_from_features

        clf.open_set = calibrate_from_features(clf.support_features, clf.support_labels)
        warn(f"{args.model} has no open-set threshold; using {clf.open_set.threshold:.3f}, from leave-one-out on its "
             "support features (adapt with --open-set for one cross-validated with the method)")
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", TransductiveFallback)
        preds, skipped = clf.predict(args.paths, top_k=args.top_k, open_set=getattr(args, "open_set", None),
                                     transductive=args.transductive)
    for note in notes:
        warn(str(note.message))
    warn_skipped(skipped)
    if not preds:
        return bad_input("no image could be classified; give image files or folders of images")
    print_predictions(preds, args.json)
    return 0


def cmd_demo(args) -> int:
    from ..core.demo import demo_query_dir, demo_support_dir, true_label
    from ..core.engine import AdaptRun
    from ..core.support import SupportSet

    support, _ = SupportSet.from_folder(demo_support_dir())
    print(f"demo support set: {', '.join(f'{c.name} ({len(c.images)})' for c in support.classes)}")
    run = AdaptRun(support, args.backbone, args.algorithm, device=args.device)
    adapt_with_bar(run, args.quiet)
    preds, _ = run.result.predict([demo_query_dir()], top_k=3)
    right = 0
    for p in preds:
        truth = true_label(p.path)
        right += p.label == truth
        print(f"{Path(p.path).name:<16} -> {p.label:<10} {p.confidence:6.1%}  {'ok' if p.label == truth else 'WRONG'}")
    print(f"{right}/{len(preds)} right ({run.result.spec.name} + {run.method.name}, "
          f"adapted in {run.result.info['seconds']:.1f} s)")
    return 0


def cmd_inspect(args) -> int:
    from ..core import strict_json
    from ..core.model_io import read_metadata

    meta = read_metadata(args.model)  # checked against the format's schema: the keys used here are there
    if args.json:
        print_json(meta)
        return 0
    b, m = meta["backbone"], meta["method"]
    print(f"classes:  {', '.join(meta['class_names'])}")
    print(f"backbone: {b['name']} ({b.get('weights_source', 'unknown source')}{', trained' if b['trained'] else ''})")
    print(f"method:   {m['name']} {strict_json.dumps(m['params'])}")
    version = meta.get("versions", {}).get("fewshot_studio", "an unknown version")
    print(f"saved:    {meta.get('created', 'at an unknown time')} by Few-shot Studio {version}")
    from ..core.calibration import Calibration

    print(f"confidence: {describe_calibration(Calibration.from_dict(meta.get('calibration')))}")
    return 0


# --- options -------------------------------------------------------------------------------------------------
def _demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", default="efficientnet_lite0")
    p.add_argument("--algorithm", default="prototypical")


def _adapt_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, help="optimisation steps (the method's step hyperparameter)")
    p.add_argument("--weights", help="backbone weights: pretrained (default), random, or a .safetensors/.pth file")


def _adapt_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed_int, default=0, help="random seed: same seed, same model (default 0)")
    p.add_argument("--output", "-o", required=True, metavar="MODEL", help="where to save the model (.safetensors)")
    p.add_argument("--open-set", action="store_true", help="calibrate a 'None of these' threshold by cross-validation "
                   "and switch it on: predict then reports images unlike every class as unknown")
    p.add_argument("--calibrate", action=argparse.BooleanOptionalAction, default=None,
                   help="fit a temperature on the support set so that confidences match accuracy (default: on when "
                   "the backbone stays frozen, a leave-one-out refit of the head; --calibrate also for methods that "
                   "train the backbone, about five more adaptations; --no-calibrate: the raw softmax)")


def _predict_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", metavar="PATH", nargs="+", help="image files or folders")
    p.add_argument("--top-k", type=positive_int, default=3, help="how many classes to list per image (default 3)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {path, label, confidence, top_k}")
    p.add_argument("--open-set", action=argparse.BooleanOptionalAction, default=None,
                   help="report images unlike every class as unknown (JSON: label null, unknown true); default: as "
                   "saved (on for models adapted with --open-set)")
    p.add_argument("--transductive", action="store_true", help="classify the images together, as unlabelled data "
                   "for one another (transductive methods: pt_map, tim, laplacian_shot)")


def commands() -> tuple[Command, ...]:
    return (
        Command("demo", cmd_demo, "adapt to the bundled demo classes and classify the demo queries",
                (_demo_options, device_option(), quiet_option())),
        Command("adapt", cmd_adapt, "adapt a classifier to a support set and save it",
                (support_argument(), method_options(), param_option(), _adapt_options, unlabelled_options(),
                 device_option(), _adapt_output_options, quiet_option())),
        Command("predict", cmd_predict,
                "classify images with a saved model (or with the model a .fsproj project keeps)",
                (model_argument(), _predict_options, device_option())),
        Command("inspect", cmd_inspect, "show what a saved model holds", (model_argument(), json_option(None))),
    )
