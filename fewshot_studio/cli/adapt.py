"""The command line: the studio's pipeline without a window.

Exit status: 0 success, 2 bad input (one line on stderr saying what to do), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

PROG = "fewshot-studio"


def _err(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


# --- commands ------------------------------------------------------------------------------------------------
def cmd_gui(args) -> int:
    from .gui.app import main as gui_main

    argv = ["--lang", args.lang] if getattr(args, "lang", None) else []
    if getattr(args, "path", None):
        argv += ["--", args.path]  # a project or folder, as the desktop entry passes a double-clicked file
    return gui_main(argv)


def cmd_backbones(args) -> int:
    from .core.backbones import list_backbones

    specs = list_backbones()
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2))
        return 0
    for s in specs:
        status = s.weights_status()
        mark = "offline" if status.available else "needs download or import"
        dim = s.feature_dim if s.feature_dim is not None else "?"
        print(f"{s.name:<22} {s.preprocess.input_size:>4}px  {dim!s:>5}-d  [{mark}]  {s.description}")
    return 0


def cmd_algorithms(args) -> int:
    from .core.algorithms import list_methods

    methods = list_methods()
    if args.json:
        print(json.dumps([{"name": m.name, "title": m.title, "description": m.description,
                           "params": [{"name": p.name, "type": p.type.__name__, "default": p.default,
                                       "help": p.help, "low": p.low, "high": p.high,
                                       "choices": list(p.choices) if p.choices else None}
                                      for p in m.param_specs()]} for m in methods], indent=2))
        return 0
    for m in methods:
        print(f"{m.name:<16} {m.title}: {m.description}")
        for p in m.param_specs():
            extra = f" ({'/'.join(p.choices)})" if p.choices else ""
            print(f"    {p.name}={p.default}{extra}  {p.help}")
    return 0


def _load_support(path: Path):
    from .core.support import SupportSet

    if path.is_file() and path.suffix.lower() == ".json":
        return SupportSet.load(path), []
    return SupportSet.from_folder(path)


def _method_values(method: str, args) -> dict:
    from .core.algorithms import get_method
    from .core.params import parse_assignments

    values = parse_assignments(args.param or [])
    if args.steps is not None:
        cls = get_method(method)
        if not cls.steps_param:
            raise SystemExit(_bad(f"--steps does not apply to {method}"))
        values[cls.steps_param] = str(args.steps)
    return values


def _bad(message: str) -> int:
    _err(message)
    return 2


def _run_with_bar(run, quiet: bool):
    from tqdm import tqdm

    from .core.runs import Progress

    interactive = sys.stderr.isatty()
    bar = tqdm(total=run.method.total_steps(), unit="step", file=sys.stderr, disable=True if quiet else None,
               dynamic_ncols=True, desc="preparing", mininterval=0.1 if interactive else 2.0)
    last, stage = None, None
    try:
        for event in run:
            if isinstance(event, Progress):
                bar.set_description(f"adapting on {event.device}")
                bar.set_postfix(loss=f"{event.loss:.4f}", acc=f"{event.accuracy:.0%}", refresh=False)
                bar.update(event.step - bar.n)
                last = event
            elif interactive or event.name != stage:
                bar.set_description(f"{event.name} {event.done}/{event.total}" if event.total > 1 else event.name)
                stage = event.name
    finally:
        bar.close()
    return last


def cmd_adapt(args) -> int:
    from .core.engine import AdaptRun

    support, skipped = _load_support(Path(args.support))
    for s in skipped:
        _warn(f"skipped {s}")
    values = _method_values(args.algorithm, args)
    run = AdaptRun(support, args.backbone, args.algorithm, values, weights=args.weights or "pretrained",
                   device=args.device, seed=args.seed)
    last = _run_with_bar(run, args.quiet)
    if getattr(args, "open_set", False):  # "None of these": threshold calibrated by cross-validation
        from .core.validation import CrossValidation

        cv = CrossValidation(support, args.backbone, args.algorithm, values, weights=args.weights or "pretrained",
                             device=args.device, seed=args.seed)
        cv.run()
        run.result.open_set = cv.result.open_set_rule(enabled=True)
        print(f"open set: images less similar than {run.result.open_set.threshold:.3f} to every support image "
              f"are reported as unknown ({cv.result.scheme}, {cv.result.n} held-out images)")
    path = run.result.save(args.output)
    summary = ", ".join(f"{c['name']} ({c['images']})" for c in support.summary()["classes"])
    acc = f", support accuracy {last.accuracy:.0%}" if last else ""
    print(f"saved {path}: {len(support)} classes [{summary}], {args.backbone} + {args.algorithm}"
          f"{acc}, {run.result.info['seconds']:.1f} s on {last.device if last else args.device}")
    return 0


def _print_predictions(preds, as_json: bool) -> None:
    if as_json:
        print(json.dumps([p.to_dict() for p in preds], indent=2))
        return
    width = max((len(p.path) for p in preds), default=0)
    for p in preds:
        others = ", ".join(f"{c} {s:.0%}" for c, s in p.top_k[1:])
        if p.unknown:  # open set: unlike every class; the best guesses stay in brackets
            others = ", ".join(f"{c} {s:.0%}" for c, s in p.top_k)
            print(f"{p.path:<{width}}  unknown  similarity {p.similarity:.3f}   ({others})")
            continue
        print(f"{p.path:<{width}}  {p.label}  {p.confidence:.1%}" + (f"   ({others})" if others else ""))


def cmd_predict(args) -> int:
    from .core.classifier import FewShotClassifier

    clf = FewShotClassifier.load(args.model, device=args.device)
    if getattr(args, "open_set", None) and clf.open_set is None:  # a model saved without a threshold
        from .core.openset import calibrate_from_features

        clf.open_set = calibrate_from_features(clf.support_features, clf.support_labels)
        _warn(f"{args.model} has no open-set threshold; using {clf.open_set.threshold:.3f}, from leave-one-out on its "
              "support features (adapt with --open-set for one cross-validated with the method)")
    preds, skipped = clf.predict(args.paths, top_k=args.top_k, open_set=getattr(args, "open_set", None))
    for s in skipped:
        _warn(f"skipped {s}")
    if not preds:
        return _bad("no image could be classified; give image files or folders of images")
    _print_predictions(preds, args.json)
    return 0


def cmd_demo(args) -> int:
    from .core.demo import demo_query_dir, demo_support_dir, true_label
    from .core.engine import AdaptRun
    from .core.support import SupportSet

    support, _ = SupportSet.from_folder(demo_support_dir())
    print(f"demo support set: {', '.join(f'{c.name} ({len(c.images)})' for c in support.classes)}")
    run = AdaptRun(support, args.backbone, args.algorithm, device=args.device)
    _run_with_bar(run, args.quiet)
    preds, _ = run.result.predict([demo_query_dir()], top_k=3)
    right = 0
    for p in preds:
        truth = true_label(p.path)
        right += p.label == truth
        print(f"{Path(p.path).name:<16} -> {p.label:<10} {p.confidence:6.1%}  {'ok' if p.label == truth else 'WRONG'}")
    print(f"{right}/{len(preds)} right ({run.result.spec.name} + {run.method.name}, "
          f"adapted in {run.result.info['seconds']:.1f} s)")
    return 0


def cmd_import_weights(args) -> int:
    from .core.backbones import import_weights

    target = import_weights(args.backbone, args.file)
    print(f"{args.backbone}: weights checked and stored at {target}; they are used from now on, offline")
    return 0


def cmd_inspect(args) -> int:
    from .core.model_io import read_metadata

    meta = read_metadata(args.model)
    if args.json:
        print(json.dumps(meta, indent=2))
        return 0
    b, m = meta["backbone"], meta["method"]
    print(f"classes:  {', '.join(meta['class_names'])}")
    print(f"backbone: {b['name']} ({b['weights_source']}{', trained' if b['trained'] else ''})")
    print(f"method:   {m['name']} {json.dumps(m['params'])}")
    print(f"saved:    {meta['created']} by Few-shot Studio {meta['versions']['fewshot_studio']}")
    return 0


def cmd_export(args) -> int:
    from .cli_export import run_export

    return run_export(args, err=_err, warn=_warn)


def cmd_export_support(args) -> int:
    from .cli_export import run_export_support

    return run_export_support(args, warn=_warn)


def cmd_meta_train(args) -> int:
    from tqdm import tqdm

    from .core.runs import Progress
    from .core.meta_train import MetaTrainConfig, MetaTrainRun, Validation
    from .core.params import parse_assignments

    config = MetaTrainConfig(
        dataset=args.dataset, method=args.algorithm, params=parse_assignments(args.param or []),
        backbone=args.backbone, weights=args.weights, image_size=args.image_size, ways=args.ways, shots=args.shots,
        queries=args.queries, meta_batch=args.meta_batch, steps=args.steps, lr=args.lr, optimizer=args.optimizer, val_every=args.val_every,
        val_episodes=args.val_episodes, val_fraction=args.val_fraction, val_dataset=args.val_dataset,
        rotations=args.rotations, augment=args.augment, seed=args.seed, device=args.device, output=args.output)
    run = MetaTrainRun(config, resume=args.resume)
    quiet = args.quiet or not run.is_main
    bar = tqdm(total=run.config.steps, unit="step", file=sys.stderr, disable=True if quiet else None,
               dynamic_ncols=True, desc="preparing")
    try:
        for event in run:
            if isinstance(event, Progress):
                bar.set_description(f"{run.method.name} on {event.device}")
                bar.set_postfix(loss=f"{event.loss:.3f}", acc=f"{event.accuracy:.0%}", refresh=False)
                bar.update(event.step - bar.n)
            elif isinstance(event, Validation):
                if run.is_main:
                    bar.write(f"step {event.step}: validation {event.result}{'  (best, saved)' if event.best else ''}")
            elif not quiet:
                bar.set_description(event.name)
    finally:
        bar.close()
    if run.is_main:
        best = f"; best validation {run.best}" if run.best else ""
        print(f"saved {run.config.output_path()}{best}")
    return 0


def cmd_evaluate(args) -> int:
    from .core.episodes import EpisodeSampler, open_pool
    from .core.evaluation import evaluate_episodes, is_lake_runs, lake_error_rate, open_predictor, read_lake_runs
    from .core.params import parse_assignments

    predict, preprocess, what = open_predictor(args.model_or_checkpoint, algorithm=args.algorithm,
                                               params=parse_assignments(args.param or []) or None,
                                               device=args.device)
    print(f"evaluating {what}")
    if is_lake_runs(args.dataset):
        runs = read_lake_runs(args.dataset)
        error = lake_error_rate(predict, runs, preprocess.load)
        if args.json:
            print(json.dumps({"runs": len(runs), "error_rate": error}))
        else:
            print(f"Lake one-shot runs: {len(runs)} runs, error rate {100 * error:.2f}%")
        return 0
    pool = open_pool(args.dataset, preprocess)
    sampler = EpisodeSampler(pool, args.ways, args.shots, args.queries, seed=args.seed)
    result = evaluate_episodes(predict, sampler, args.episodes)
    if args.json:
        print(json.dumps({"ways": args.ways, "shots": args.shots, "episodes": args.episodes,
                          "accuracy": result.mean, "ci95": result.ci95}))
    else:
        print(result)
    return 0


def cmd_rank(args) -> int:
    from .core.classifier import FewShotClassifier
    from .core.label_next import RankRun

    if args.top is not None and args.top < 1:
        return _bad("--top must be at least 1")
    clf = FewShotClassifier.load(args.model, device=args.device)
    ranking = RankRun(clf, args.paths, by=args.by, diversity=args.diversity).run()
    for s in ranking.skipped:
        _warn(f"skipped {s}")
    if ranking.already_labelled:
        n = len(ranking.already_labelled)
        _warn(f"{n} image{'s are' if n != 1 else ' is'} already among the model's support images; left out")
    items = ranking.top(args.top)
    if args.json:
        print(json.dumps([i.to_dict() for i in items], indent=2))
        return 0
    for i in items:
        print(f"{i.rank:>4}  {i.score:.3f}  {i.label} {i.confidence:.0%}  {i.path}")
    return 0


def cmd_embed(args) -> int:
    from .core.classifier import FewShotClassifier
    from .core.embedding_map import EmbeddingMapRun

    if args.output and Path(args.output).suffix.lower() not in (".csv", ".json"):
        return _bad(f"{args.output}: the map is written as .csv or .json; give a file name ending in one of those")
    clf = FewShotClassifier.load(args.model, device=args.device)
    result = EmbeddingMapRun(clf, args.paths, method=args.method, include_support=not args.no_support,
                             seed=args.seed).run()
    for s in result.skipped:
        _warn(f"skipped {s}")
    if not args.output:
        print(result.to_csv(), end="")
        return 0
    path = result.save(args.output)
    n_support = result.kinds.count("support")
    axes = (f"; the axes hold {result.explained[0]:.0%} and {result.explained[1]:.0%} of the variance"
            if result.explained else "")
    print(f"saved {path}: {len(result)} points ({n_support} support, {len(result) - n_support} query), "
          f"{'t-SNE' if args.method == 'tsne' else 'PCA'}{axes}")
    return 0


# --- parser --------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from .core.device_names import DEVICE_CHOICES

    parser = argparse.ArgumentParser(prog=PROG, description="Few-shot image classification: teach new classes "
                                     "from a handful of examples. With no command, opens the studio window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, func, help_text):
        # help is %-formatted by argparse (a "95% confidence" made --help crash); description is not
        p = sub.add_parser(name, help=help_text.replace("%", "%%"), description=help_text)
        p.set_defaults(func=func)
        return p

    def device_opt(p):
        p.add_argument("--device", default="auto", help=f"{', '.join(DEVICE_CHOICES)} or cuda:N (default: auto)")

    p = add("gui", cmd_gui, "open the studio window")
    p.add_argument("path", nargs="?", help="a project file (.fsproj) or a folder of class sub-folders to open")
    p.add_argument("--lang", help="interface language: en or zh_CN (default: the setting, else the system's)")

    p = add("demo", cmd_demo, "adapt to the bundled demo classes and classify the demo queries")
    p.add_argument("--backbone", default="efficientnet_lite0")
    p.add_argument("--algorithm", default="prototypical")
    device_opt(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    for name, func, what in (("backbones", cmd_backbones, "list the backbones (feature extractors)"),
                             ("algorithms", cmd_algorithms, "list the methods and their hyperparameters")):
        add(name, func, what).add_argument("--json", action="store_true", help="machine-readable output")

    p = add("adapt", cmd_adapt, "adapt a classifier to a support set and save it")
    p.add_argument("support", metavar="SUPPORT_DIR", help="folder with one sub-folder of images per class "
                   "(or a support-set .json)")
    p.add_argument("--backbone", default="efficientnet_lite0", help="see: fewshot-studio backbones")
    p.add_argument("--algorithm", default="prototypical", help="see: fewshot-studio algorithms")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a hyperparameter (repeatable)")
    p.add_argument("--steps", type=int, help="optimisation steps (the method's step hyperparameter)")
    p.add_argument("--weights", help="backbone weights: pretrained (default), random, or a .safetensors/.pth file")
    device_opt(p)
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed, same model (default 0)")
    p.add_argument("--output", "-o", required=True, metavar="MODEL", help="where to save the model (.safetensors)")
    p.add_argument("--open-set", action="store_true", help="calibrate a 'None of these' threshold by cross-validation "
                   "and switch it on: predict then reports images unlike every class as unknown")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("predict", cmd_predict, "classify images with a saved model")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("paths", metavar="PATH", nargs="+", help="image files or folders")
    p.add_argument("--top-k", type=int, default=3, help="how many classes to list per image (default 3)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {path, label, confidence, top_k}")
    p.add_argument("--open-set", action=argparse.BooleanOptionalAction, default=None,
                   help="report images unlike every class as unknown (JSON: label null, unknown true); default: as "
                   "saved (on for models adapted with --open-set)")
    device_opt(p)

    p = add("import-weights", cmd_import_weights, "use a local weights file for a backbone (works offline)")
    p.add_argument("backbone", metavar="BACKBONE")
    p.add_argument("file", metavar="FILE", help=".pth state dict or .safetensors")

    p = add("meta-train", cmd_meta_train, "meta-train a method on episodes from a base dataset "
            "(under torchrun: DistributedDataParallel)")
    p.add_argument("--dataset", required=True, help="Omniglot .npz or .zip, or a folder with one sub-folder per class")
    p.add_argument("--algorithm", default="prototypical", help="an episodic method (see: fewshot-studio algorithms)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a method hyperparameter (repeatable)")
    p.add_argument("--backbone", default="conv4", help="a backbone name, or a checkpoint to continue from")
    p.add_argument("--weights", default="pretrained", help="pretrained (default), random, or a weights file")
    p.add_argument("--image-size", type=int, help="model input side in pixels (Omniglot: 28)")
    for name, default in (("ways", 5), ("shots", 1), ("queries", 15), ("meta-batch", 4), ("steps", 1000),
                          ("val-every", 100), ("val-episodes", 100)):
        p.add_argument(f"--{name}", type=int, default=default, help=f"(default {default})")
    p.add_argument("--lr", type=float, default=1e-3, help="meta learning rate (default 1e-3)")
    p.add_argument("--optimizer", default="adam", choices=("adam", "sgd"), help="meta optimiser (default adam)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of alphabets/classes held out for "
                   "validation (default 0.2)")
    p.add_argument("--val-dataset", help="validate on this dataset instead of held-out classes")
    p.add_argument("--rotations", action="store_true", help="rotations by 90/180/270 degrees as new classes")
    p.add_argument("--augment", action="store_true", help="random crops, flips and colour jitter")
    p.add_argument("--seed", type=int, default=0)
    device_opt(p)
    p.add_argument("--output", "-o", help="best checkpoint (default: the studio's checkpoints folder, where the "
                   "window's backbone picker finds it)")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint (its .last file)")
    p.add_argument("--quiet", action="store_true")

    p = add("evaluate", cmd_evaluate, "mean accuracy with a 95% confidence interval over N-way K-shot episodes, "
            "or the error rate on Lake et al.'s one-shot runs")
    p.add_argument("--model-or-checkpoint", required=True, metavar="PATH")
    p.add_argument("--dataset", required=True, help="Omniglot .npz/.zip, a folder of class folders, or a folder "
                   "of runNN/ one-shot runs")
    p.add_argument("--algorithm", help="evaluate with another method (adapts to each episode)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE")
    for name, default in (("ways", 5), ("shots", 1), ("queries", 15), ("episodes", 600), ("seed", 0)):
        p.add_argument(f"--{name}", type=int, default=default, help=f"(default {default})")
    device_opt(p)
    p.add_argument("--json", action="store_true")

    from .cli_validation import add_commands as add_validation_commands

    add_validation_commands(add, device_opt)  # validate, compare

    p = add("rank", cmd_rank, "rank unlabelled images by how much labelling each would help the model "
            "(most uncertain first)")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("paths", metavar="FOLDER", nargs="+", help="folders of unlabelled images (or image files)")
    p.add_argument("--by", choices=("margin", "entropy"), default="margin",
                   help="margin (default): how close the two likeliest classes are; entropy: how spread the "
                   "probabilities are over all classes")
    p.add_argument("--top", type=int, metavar="N", help="list only the first N images")
    p.add_argument("--diversity", type=float, default=0.3, metavar="W",
                   help="0..1: how strongly near-duplicates are moved down the list (default 0.3; 0: off)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {rank, path, score, margin, "
                   "entropy, label, confidence, top_k}")
    device_opt(p)

    p = add("embed", cmd_embed, "2-D map of a model's support images and of query images (PCA or t-SNE), "
            "as CSV or JSON")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("paths", metavar="IMAGES", nargs="*", help="query images or folders (optional)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="pca (default) or tsne (needs scikit-learn: pip install 'fewshot-studio[tsne]')")
    p.add_argument("--no-support", action="store_true", help="map only the query images")
    p.add_argument("--seed", type=int, default=0, help="t-SNE's random seed (default 0)")
    p.add_argument("--output", "-o", metavar="MAP", help="map.csv or map.json (default: CSV on standard output)")
    device_opt(p)

    p = add("inspect", cmd_inspect, "show what a saved model holds")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true")

    p = add("export", cmd_export, "export a saved model as one ONNX graph (backbone, normalisation and method) "
            "for onnxruntime and other ONNX runtimes")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--onnx", required=True, metavar="OUT.onnx", help="where to write the ONNX file")
    p.add_argument("--check", nargs="+", metavar="IMAGE", help="images or folders: compare onnxruntime's "
                   "outputs with PyTorch's on them (needs onnxruntime)")
    p.add_argument("--example", action="store_true", help="also write onnx_predict.py beside OUT.onnx: a "
                   "predict script that needs only onnxruntime, pillow and numpy")

    p = add("export-support", cmd_export_support, "write a support set as a folder with one sub-folder of "
            "images per class (the layout adapt and Import class folders read)")
    p.add_argument("support", metavar="SUPPORT", help="a project (.fsproj), a support-set .json, or a folder")
    p.add_argument("output", metavar="OUT_DIR", help="a new or empty folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    from .core.errors import FewShotError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_gui
    try:
        return args.func(args) or 0
    except FewShotError as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
