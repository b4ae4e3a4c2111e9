"""``fewshot-studio export`` and ``export-support``: using a model or a support set elsewhere."""

from __future__ import annotations

from pathlib import Path


def run_export(args, *, err, warn) -> int:
    from .core.classifier import FewShotClassifier
    from .core.errors import FewShotError
    from .core.export_onnx import MSG_NO_ORT, OUTPUTS, check_onnx, export_onnx, write_example

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
        for s in report.skipped:
            warn(f"skipped {s}")
        print(report)
        if not report.ok:
            err("the ONNX file does not give PyTorch's results on these images; please report this")
            return 1
    return 0


def run_export_support(args, *, warn) -> int:
    from .core.imagefolder import export_image_folder
    from .core.project import SUFFIX, open_project
    from .core.support import SupportSet

    source = Path(args.support)
    if source.is_file() and source.suffix.lower() == SUFFIX:
        project = open_project(source)
        support, skipped = project.support, project.skipped
    elif source.is_file() and source.suffix.lower() == ".json":
        support, skipped = SupportSet.load(source), []
    else:
        support, skipped = SupportSet.from_folder(source)
    for s in skipped:
        warn(f"skipped {s}")
    result = export_image_folder(support, args.output)
    for line in result.renamed:
        warn(f"renamed {line}")
    print(f"wrote {result}")
    return 0
