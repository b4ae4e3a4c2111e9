"""``multi-task``: supervised training of one backbone on several labelled datasets at once (a head for each);
the checkpoint is then a backbone like a meta-trained one."""

from __future__ import annotations

import argparse

from .common import Command, ProgressBar, device_option, follow, seed_int


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def cmd_multi_task(args) -> int:
    from pathlib import Path

    from ..core.multitask import MultiTaskConfig, MultiTaskRun, MultiTaskValidation
    from ..core.runs import Progress, Stage

    config = MultiTaskConfig(
        datasets=args.dataset, backbone=args.backbone, weights=args.weights, image_size=args.image_size,
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer, schedule=args.schedule,
        augment=args.augment, val_every=args.val_every, val_fraction=args.val_fraction, seed=args.seed,
        device=args.device, output=args.output)
    run = MultiTaskRun(config)
    with ProgressBar(config.steps, quiet=args.quiet) as bar:
        def validation(event: MultiTaskValidation) -> None:
            each = ", ".join(f"{Path(d).name} {_percent(a)}" for d, a in event.accuracies.items())
            bar.write(f"step {event.step}: validation mean {_percent(event.mean)} ({each})"
                      f"{'  (best, saved)' if event.best else ''}")

        follow(run, {Progress: lambda e: bar.step(e, f"multi-task on {e.device}", loss_format=".3f"),
                     MultiTaskValidation: validation, Stage: lambda e: bar.stage(e)}, command="multi-task")
    best = f"; best mean validation accuracy {_percent(run.best)}" if run.best is not None else ""
    print(f"saved {run.result}{best}")
    return 0


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", action="append", required=True, metavar="PATH", help="a labelled dataset: an "
                   "Omniglot .npz/.zip or a folder with one sub-folder per class (repeat for each dataset)")
    p.add_argument("--backbone", default="conv4", help="a backbone name, or a checkpoint to start from "
                   "(default conv4)")
    p.add_argument("--weights", default="pretrained", help="pretrained (default), random, or a weights file")
    p.add_argument("--image-size", type=int, help="model input side in pixels (Omniglot: 28)")
    p.add_argument("--steps", type=int, default=1000, help="(default 1000)")
    p.add_argument("--batch-size", type=int, default=64, help="images from each dataset in every step (default 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    p.add_argument("--optimizer", default="adam", choices=("adam", "sgd"), help="adam (default) or sgd (Nesterov "
                   "momentum 0.9)")
    p.add_argument("--schedule", default="cosine", choices=("cosine", "constant"), help="learning rate over the "
                   "steps (default cosine, to 0 at the end)")
    p.add_argument("--augment", action="store_true", help="random crops, flips and colour jitter")
    p.add_argument("--val-every", type=int, default=100, help="steps between validations (default 100; 0: none, "
                   "the last step is saved)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of each class's images held out to "
                   "measure each dataset's accuracy (default 0.1)")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--output", "-o", help="the checkpoint (default: the studio's checkpoints folder, where "
                   "`backbones` and the window's backbone picker find it)")
    p.add_argument("--quiet", action="store_true")


def commands() -> tuple[Command, ...]:
    return (
        Command("multi-task", cmd_multi_task, "train one backbone on several labelled datasets at once (a linear "
                "head each); the checkpoint becomes a backbone", (_options, device_option())),
    )
