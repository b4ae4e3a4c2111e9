"""``meta-train`` and ``evaluate``: learning a backbone from episodes of a base dataset, and measuring a model on
N-way K-shot episodes."""

from __future__ import annotations

import argparse

import time

from .common import (Command, ProgressBar, ProgressLog, bad_input, device_option, follow, json_option, parse_params,
                     positive_int, print_json, seed_int, warn)

MSG_MODEL_TWICE = ("give the model once: either MODEL_OR_CHECKPOINT or --model-or-checkpoint, not both "
                   "({first} and {second})")
MSG_NO_MODEL = "give the model to evaluate: fewshot-studio evaluate MODEL_OR_CHECKPOINT --dataset DATASET"
MSG_NO_DATASET = ("give the base dataset: fewshot-studio meta-train --dataset DATASET [--preset NAME] "
                  "(fewshot-studio meta-train --preset list shows the presets)")
MSG_KEPT_INDUCTIVE = "in {n} of {episodes} episodes the images were too few to classify jointly: {note}"


def cmd_meta_train(args) -> int:
    from ..core.meta_train import MetaTrainConfig, MetaTrainRun, Validation
    from ..core.runs import Progress, Stage

    from ..core.presets import list_presets, preset_values

    if args.preset == "list":
        for p in list_presets():
            print(f"{p.name:16s} {p.title}: {p.description}")
        return 0
    if not args.dataset:
        return bad_input(MSG_NO_DATASET)
    explicit = dict(  # None: not given, the preset's value or the default applies
        dataset_weight=args.dataset_weight, method=args.algorithm, params=parse_params(args) or None,
        backbone=args.backbone, weights=args.weights, image_size=args.image_size, ways=args.ways, shots=args.shots,
        queries=args.queries, meta_batch=args.meta_batch, steps=args.steps, lr=args.lr, optimizer=args.optimizer,
        lr_schedule=args.lr_schedule,
        val_every=args.val_every, val_episodes=args.val_episodes, val_fraction=args.val_fraction,
        val_dataset=args.val_dataset, rotations=args.rotations, augment=args.augment, seed=args.seed,
        device=args.device, output=args.output)
    config = MetaTrainConfig(datasets=args.dataset, **preset_values(args.preset, explicit))
    run = MetaTrainRun(config, resume=args.resume)
    with ProgressBar(run.config.steps, quiet=args.quiet or not run.is_main) as bar:
        def validation(event) -> None:
            if run.is_main:
                bar.write(f"step {event.step}: validation {event.result}{per_domain_text(event.per_domain)}"
                          f"{'  (best, saved)' if event.best else ''}")

        follow(run, {Progress: lambda e: bar.step(e, f"{run.method.name} on {e.device}", loss_format=".3f"),
                     Validation: validation, Stage: lambda e: bar.stage(e, counts=False)}, command="meta-train",
               log=run.is_main)
    if run.is_main:
        best = f"; best validation {run.best}{per_domain_text(run.best_per_domain)}" if run.best else ""
        print(f"saved {run.config.output_path()}{best}")
    return 0


def per_domain_text(per_domain: dict) -> str:
    """" [omniglot 81.2%, fashion 64.0%]" after a validation's mean, with more than one domain ("" otherwise)."""
    if len(per_domain) < 2:
        return ""
    return " [" + ", ".join(f"{name} {100 * r.mean:.1f}%" for name, r in per_domain.items()) + "]"


def cmd_evaluate(args) -> int:
    from ..core.episodes import EpisodeSampler, open_pool
    from ..core.runs import Progress
    from ..core.evaluation import evaluate_episodes, is_lake_runs, lake_error_rate, open_predictor, read_lake_runs

    if args.model and args.model_option:
        return bad_input(MSG_MODEL_TWICE.format(first=args.model, second=args.model_option))
    model = args.model or args.model_option
    if not model:
        return bad_input(MSG_NO_MODEL)
    notes: list[str] = []
    predict, preprocess, what = open_predictor(model, algorithm=args.algorithm,
                                               params=parse_params(args) or None, device=args.device,
                                               domain_adaptation=",".join(args.domain_adaptation or []),
                                               transductive=args.transductive, notes=notes)
    pool = f", {args.unlabelled_per_class} unlabelled images per class" if args.unlabelled_per_class else ""
    print(f"evaluating {what}{pool}")
    if is_lake_runs(args.dataset):
        runs = read_lake_runs(args.dataset)
        error = lake_error_rate(predict, runs, preprocess.load)
        if args.json:
            print_json({"runs": len(runs), "error_rate": error}, indent=None)
        else:
            print(f"Lake one-shot runs: {len(runs)} runs, error rate {100 * error:.2f}%")
        return 0
    pool = open_pool(args.dataset, preprocess)
    sampler = EpisodeSampler(pool, args.ways, args.shots, args.queries, seed=args.seed,
                             unlabelled=args.unlabelled_per_class)
    with ProgressLog("evaluate") as log:
        started, right = time.monotonic(), []

        def episode(done: int, accuracy: float) -> None:
            right.append(accuracy)
            log.event(Progress(done, args.episodes, float("nan"), sum(right) / len(right), 0.0,
                               time.monotonic() - started, what))

        result = evaluate_episodes(predict, sampler, args.episodes, on_episode=episode)
    if notes:
        warn(MSG_KEPT_INDUCTIVE.format(n=len(notes), episodes=args.episodes, note=notes[0]))
    if args.json:
        print_json({"ways": args.ways, "shots": args.shots, "episodes": args.episodes,
                    "accuracy": result.mean, "ci95": result.ci95}, indent=None)
    else:
        print(result)
    return 0


# --- options -------------------------------------------------------------------------------------------------
def _int_options(p: argparse.ArgumentParser, defaults: tuple[tuple[str, int], ...], kind=int,
                 preset: bool = False) -> None:
    """Integer options; with ``preset``, None when not given (a preset's value, or MetaTrainConfig's default)."""
    for name, default in defaults:
        p.add_argument(f"--{name}", type=kind, default=None if preset else default,
                       help=f"(default {default}{', or the preset' if preset else ''})")


def _meta_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", action="append", help="Omniglot .npz or .zip, or a folder with one "
                   "sub-folder per class; repeat it to train on several domains (each episode from one of them)")
    p.add_argument("--preset", metavar="NAME", help="a measured recipe (method, episode shape, distance...); the "
                   "options given explicitly win; --preset list shows them")
    p.add_argument("--dataset-weight", metavar="uniform|proportional", help="how often "
                   "each domain gives the episode: uniform (default) or proportional to its number of training "
                   "classes")
    p.add_argument("--algorithm", help="an episodic method (default prototypical; see: fewshot-studio algorithms)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a method hyperparameter (repeatable)")
    p.add_argument("--backbone", help="a backbone name, or a checkpoint to continue from (default conv4)")
    p.add_argument("--weights", help="pretrained (default), random, or a weights file")
    p.add_argument("--image-size", type=int, help="model input side in pixels (Omniglot: 28)")
    _int_options(p, (("ways", 5), ("shots", 1), ("queries", 15), ("meta-batch", 4), ("steps", 1000),
                     ("val-every", 100), ("val-episodes", 100)), preset=True)
    p.add_argument("--lr", type=float, help="meta learning rate (default 1e-3)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), help="meta optimiser (default adam)")
    p.add_argument("--lr-schedule", metavar="constant|cosine", help="the meta learning rate over the steps: "
                   "constant (default), or cosine (from --lr to about 0 at the last step)")
    p.add_argument("--val-fraction", type=float, help="share of alphabets/classes held out for "
                   "validation (default 0.2)")
    p.add_argument("--val-dataset", help="validate on this dataset instead of each domain's held-out classes")
    p.add_argument("--rotations", action=argparse.BooleanOptionalAction, default=None,
                   help="rotations by 90/180/270 degrees as new classes (default off, or the preset's)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random crops, flips and colour jitter (default off, or the preset's)")
    p.add_argument("--seed", type=seed_int)


def _meta_train_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", help="best checkpoint (default: the studio's checkpoints folder, where the "
                   "window's backbone picker finds it)")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint (its .last file)")
    p.add_argument("--quiet", action="store_true")


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL_OR_CHECKPOINT", nargs="?", help="a saved model (.safetensors) or a "
                   "meta-training checkpoint")
    p.add_argument("--model-or-checkpoint", dest="model_option", metavar="PATH", help="the same, as an option (an "
                   "alias kept for older scripts)")
    p.add_argument("--dataset", required=True, help="Omniglot .npz/.zip, a folder of class folders, or a folder "
                   "of runNN/ one-shot runs")
    p.add_argument("--algorithm", help="evaluate with another method (adapts to each episode)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE")
    _int_options(p, (("ways", 5), ("shots", 1), ("queries", 15), ("episodes", 600)), kind=positive_int)
    p.add_argument("--seed", type=seed_int, default=0, help="(default 0)")
    p.add_argument("--unlabelled-per-class", type=int, default=0, metavar="N", help="give each episode a pool of N "
                   "more images per class without labels, disjoint from its support and queries (default 0)")
    p.add_argument("--transductive", action="store_true", help="classify each episode's queries jointly (with its "
                   "pool); needs a transductive method (--algorithm pt_map, tim or laplacian_shot)")
    p.add_argument("--domain-adaptation", action="append", metavar="NAME[,NAME]", help="adaptation stages for "
                   "each episode (adabn, tent, coral, pseudo_label, soft_kmeans); needs --unlabelled-per-class")


def commands() -> tuple[Command, ...]:
    return (
        Command("meta-train", cmd_meta_train, "meta-train a method on episodes from a base dataset "
                "(under torchrun: DistributedDataParallel)",
                (_meta_train_options, device_option(), _meta_train_output_options)),
        Command("evaluate", cmd_evaluate, "mean accuracy with a 95% confidence interval over N-way K-shot episodes, "
                "or the error rate on Lake et al.'s one-shot runs",
                (_evaluate_options, device_option(), json_option(None))),
    )
