"""``fewshot-studio export`` and ``export-support``: using a model or a support set elsewhere."""

from __future__ import annotations

import argparse

from .common import Command, error, load_support, model_argument, warn, warn_skipped


def cmd_export(args) -> int:
    from ..core.errors import FewShotError
    from ..core.safe_write import check_output

    check_output(args.onnx, inputs=[("the model", args.model)], suffix=".onnx")
    from ..core.classifier import FewShotClassifier  # torch: after the checks that need none
    from ..core.export_onnx import MSG_NO_ORT, OUTPUTS, check_onnx, export_onnx, write_example

    if args.check:
        try:
            import onnxruntime  # noqa: F401 - checked before the export, which takes a while
        except ImportError:
            raise FewShotError(MSG_NO_ORT) from None
    clf = FewShotClassifier.load(args.model, device="cpu")
    path = export_onnx(clf, args.onnx)
    p = clf.preprocess
    outputs = [o for o in OUTPUTS if o != "nearest_similarity" or len(clf.support_features)]
    print(f"saved {path}: {len(clf.class_names)} classes [{', '.join(clf.class_names)}], {clf.method.name} on "
          f"{clf.spec.name}; input 'image' uint8 RGB (N, 3, {p.input_size}, {p.input_size}): shorter side resized "
          f"to {p.resize_size}, centre-cropped to {p.input_size}; outputs {', '.join(outputs)}")
    if args.example:
        target = write_example(path.parent)
        print(f"wrote {target}: python {target.name} {path.name} IMAGES... (needs onnxruntime, pillow, numpy)")
    if args.check:
        report = check_onnx(clf, path, args.check)
        warn_skipped(report.skipped)
        print(report)
        if not report.ok:
            error("the ONNX file does not give PyTorch's results on these images; please report this")
            return 1
    return 0


def cmd_export_support(args) -> int:
    from ..core.imagefolder import export_image_folder

    support = load_support(args.support, projects=True)
    result = export_image_folder(support, args.output, source=args.support)
    for line in result.renamed:
        warn(f"renamed {line}")
    print(f"wrote {result}")
    return 0


def _export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--onnx", required=True, metavar="OUT.onnx", help="where to write the ONNX file")
    p.add_argument("--check", nargs="+", metavar="IMAGE", help="images or folders: compare onnxruntime's "
                   "outputs with PyTorch's on them (needs onnxruntime)")
    p.add_argument("--example", action="store_true", help="also write onnx_predict.py beside OUT.onnx: a "
                   "predict script that needs only onnxruntime, pillow and numpy")


def _export_support_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("support", metavar="SUPPORT", help="a project (.fsproj), a support-set .json, or a folder")
    p.add_argument("output", metavar="OUT_DIR", help="a new or empty folder")


def commands() -> tuple[Command, ...]:
    return (
        Command("export", cmd_export, "export a saved model as one ONNX graph (backbone, normalisation and method) "
                "for onnxruntime and other ONNX runtimes", (model_argument(), _export_options)),
        Command("export-support", cmd_export_support, "write a support set as a folder with one sub-folder of "
                "images per class (the layout adapt and Import class folders read)", (_export_support_options,)),
    )
