"""ONNX export of an adapted classifier: backbone, normalisation and method head as one graph.

The graph's contract (also written into the file's metadata, key ``input``):

- input ``image``: uint8, shape (N, 3, S, S), RGB, N free (dynamic batch axis), S = ``input_size``.
  Prepare it as the studio does: shorter side resized to ``resize_size`` (bilinear), centre crop of
  ``resize_size``, then the centre ``input_size`` crop (see :func:`studio_input`). Scaling to 0..1 and
  the backbone's mean/std normalisation happen inside the graph.
- outputs ``probabilities`` (N, C) (softmax of the logits), ``logits`` (N, C) (the method's logits divided by
  the model's calibration temperature, metadata key ``calibration``; 1 for an uncalibrated model, so the
  probabilities are the calibrated ones ``predict`` shows), and, when the model holds
  support features, ``nearest_similarity`` (N,): cosine similarity of the image's pooled features to its
  nearest support image, the score the studio's open-set rule thresholds (metadata key ``open_set``).

Whatever a method's logits depend on (prototypes, the matching memory, relation-module class maps, CNP
representations, linear or adapted heads) is traced into the graph as constants. The TorchScript-based
exporter (``dynamo=False``) is used: it needs nothing beyond torch (the torch.export-based one needs
``onnxscript``), it takes well under a second for these models, and it handles every registered method.
The ``onnx`` package writes the metadata; ``onnxruntime`` is needed only by :func:`check_onnx`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import __version__
from .calibration import UNCALIBRATED
from .classifier import expand_paths
from .errors import FewShotError, ImageError
from .images import Skipped
from .safe_write import OutputPathError, atomic_write

INPUT = "image"
OUTPUTS = ("probabilities", "logits", "nearest_similarity")
OPSET = 17
PROBABILITY_TOLERANCE = 1e-4  # max abs difference between onnxruntime and PyTorch probabilities
INSTALL = 'pip install "fewshot-studio[export]"  (or: pip install onnx onnxruntime)'
INPUT_CONTRACT = ("uint8 RGB (N, 3, {s}, {s}), N free: shorter side resized to {r} (bilinear), centre crop "
                  "{r}x{r}, then the centre {s}x{s} crop; scaling and mean/std normalisation are inside the graph")

MSG_NO_ONNX = "exporting to ONNX needs the onnx package, which is not installed; install it with: " + INSTALL
MSG_NO_ORT = "checking an ONNX file needs onnxruntime, which is not installed; install it with: " + INSTALL
MSG_NOT_EXPORTABLE = "the method {method} cannot be exported to ONNX: {why}"
MSG_NOT_ADAPTED = "this classifier has not been adapted yet (its {method} head is empty); adapt it first"
MSG_FAILED = ("exporting {method} on {backbone} to ONNX failed ({error}); the model still works in the studio, "
              "and this is worth reporting")
MSG_WRITE = "cannot write {path}: {error}; choose a folder you can write to"
MSG_NOT_ONNX = "{path}: not a readable ONNX file ({error})"
MSG_EXAMPLE_EXISTS = "{path} exists and is not the studio's example script; move it away first"
MSG_NO_IMAGES = "no image to check the export with; give image files or folders of images"

# Methods whose logits cannot be expressed as a fixed graph, with the reason (none today: every registered
# method scores queries against stored tensors). A method listed here is refused with its reason.
NOT_EXPORTABLE: dict[str, str] = {}


class ExportError(FewShotError):
    """A model that cannot be exported or checked; the message says why and what to do."""


class ExportGraph(nn.Module):
    """uint8 images (N, 3, S, S) -> (probabilities (N, C), logits (N, C)[, nearest_similarity (N,)])."""

    def __init__(self, backbone: nn.Module, method, preprocess, support_features: torch.Tensor | None,
                 temperature: float = 1.0):
        super().__init__()
        self.register_buffer("temperature", torch.tensor(float(temperature)))
        self.backbone = backbone
        self.method = method
        self.feature_kind = method.feature_kind
        for attr in ("nets", "head"):  # the method's own modules, so that .cpu() and .eval() reach them
            if isinstance(getattr(method, attr, None), nn.Module):
                self.add_module(f"method_{attr}", getattr(method, attr))
        self.register_buffer("mean", torch.tensor(preprocess.mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(preprocess.std, dtype=torch.float32).view(1, 3, 1, 1))
        self.has_support = support_features is not None and support_features.shape[0] > 0
        if self.has_support:
            self.register_buffer("support", F.normalize(support_features.float(), dim=-1))

    def forward(self, image: torch.Tensor):
        x = (image.float() / 255.0 - self.mean) / self.std
        if self.feature_kind == "map":
            features = self.backbone.feature_map(x)
            pooled = features.mean(dim=(2, 3))
            if self.has_support and pooled.shape[-1] != self.support.shape[-1]:
                pooled = self.backbone(x)  # support features are the backbone's pooled output (conv4: flattened)
        else:
            features = pooled = self.backbone(x)
        logits = self.method.logits(features.float()) / self.temperature
        probabilities = F.softmax(logits, dim=-1)
        if not self.has_support:
            return probabilities, logits
        nearest = (F.normalize(pooled.float(), dim=-1) @ self.support.T).max(dim=1).values
        return probabilities, logits, nearest


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError(MSG_NO_ONNX) from None
    return onnx


def _open_set(clf) -> dict | None:
    rule = getattr(clf, "open_set", None)
    if rule is not None and hasattr(rule, "to_dict"):
        return rule.to_dict()
    meta = getattr(clf, "meta", None) or {}
    found = meta.get("open_set") or clf.info.get("open_set")
    return found if isinstance(found, dict) else None


def onnx_metadata(clf, outputs: list[str]) -> dict[str, str]:
    """The metadata_props written into the ONNX file: every value a string (JSON for lists and dicts)."""
    p = clf.preprocess
    meta = {
        "format": "fewshot-studio-onnx", "format_version": "1",
        "class_names": json.dumps(clf.class_names, ensure_ascii=False),
        "input": INPUT_CONTRACT.format(s=p.input_size, r=p.resize_size),
        "input_name": INPUT, "outputs": json.dumps(outputs),
        "input_size": str(p.input_size), "resize_size": str(p.resize_size),
        "mean": json.dumps(list(p.mean)), "std": json.dumps(list(p.std)),
        "method": clf.method.name, "method_params": json.dumps(clf.method.params_dict()),
        "backbone": clf.spec.name, "studio_version": __version__, "torch_version": torch.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    open_set = _open_set(clf)
    if open_set is not None:
        meta["open_set"] = json.dumps(open_set)
    meta["calibration"] = json.dumps({**_calibration(clf).to_dict(), "applied": CALIBRATION_APPLIED})
    return meta


CALIBRATION_APPLIED = ("inside the graph: logits = method logits / temperature, probabilities = softmax(logits); "
                       "temperature 1 when uncalibrated")


def _calibration(clf):
    return getattr(clf, "calibration", None) or UNCALIBRATED


def _cpu_copy(method):
    """A copy of ``method`` with every tensor it holds (contexts, heads, modules) on the CPU."""
    method = copy.deepcopy(method)
    for name, value in vars(method).items():
        if isinstance(value, (torch.Tensor, nn.Module)):
            setattr(method, name, value.cpu())
        elif isinstance(value, dict) and any(isinstance(v, torch.Tensor) for v in value.values()):
            setattr(method, name, {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in value.items()})
    return method


def write_example(folder: str | os.PathLike) -> Path:
    """Copy the example script into ``folder`` (an identical copy there is kept; a different file is not
    overwritten: ExportError)."""
    target = Path(folder) / example_script().name
    if target.exists() and target.read_bytes() != example_script().read_bytes():
        raise ExportError(MSG_EXAMPLE_EXISTS.format(path=target))
    try:
        shutil.copyfile(example_script(), target)
    except OSError as exc:
        raise ExportError(MSG_WRITE.format(path=target, error=exc.strerror or exc)) from None
    return target


def _check_exportable(clf) -> None:
    name = clf.method.name
    if name in NOT_EXPORTABLE:
        raise ExportError(MSG_NOT_EXPORTABLE.format(method=name, why=NOT_EXPORTABLE[name]))
    try:
        adapted = bool(clf.method.head_state())
    except (AttributeError, TypeError):  # a head or context that was never fitted is None
        adapted = False
    if not adapted:
        raise ExportError(MSG_NOT_ADAPTED.format(method=name))


def export_onnx(clf, path: str | os.PathLike, *, opset: int = OPSET) -> Path:
    """Write ``clf`` as one ONNX graph (see the module docstring for its inputs and outputs).

    The file is written beside its destination and moved into place. Raises :class:`ExportError` when the
    method cannot be exported, ``onnx`` is missing, or the place cannot be written.
    """
    path = Path(path)
    onnx = _import_onnx()
    _check_exportable(clf)
    try:
        backbone = copy.deepcopy(clf.backbone).cpu().float()
        if hasattr(backbone, "use_channels_last"):
            backbone = backbone.use_channels_last(False)
        graph = ExportGraph(backbone, _cpu_copy(clf.method), clf.preprocess, clf.support_features,
                            _calibration(clf).temperature).cpu().eval()
    except RuntimeError as exc:  # e.g. a head_state that cannot be copied
        raise ExportError(MSG_FAILED.format(method=clf.method.name, backbone=clf.spec.name, error=exc)) from None
    outputs = list(OUTPUTS if graph.has_support else OUTPUTS[:2])
    s = clf.preprocess.input_size
    example = torch.randint(0, 256, (2, 3, s, s), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    inputs = [("the model", getattr(clf, "source_path", None))]

    def write(tmp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer warnings are not the user's
            torch.onnx.export(graph, (example,), str(tmp), dynamo=False, opset_version=opset, input_names=[INPUT],
                              output_names=outputs, dynamic_axes={n: {0: "batch"} for n in [INPUT, *outputs]},
                              do_constant_folding=True)
        model = onnx.load(str(tmp))
        for key, value in onnx_metadata(clf, outputs).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        contract = INPUT_CONTRACT.format(s=s, r=clf.preprocess.resize_size)
        model.doc_string = (f"Few-shot Studio classifier ({clf.method.name} on {clf.spec.name}), classes: "
                            f"{', '.join(clf.class_names)}. Input: {contract}.")
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))

    try:
        atomic_write(path, write, inputs=inputs)
    except OutputPathError as exc:
        raise ExportError(str(exc)) from None
    except FewShotError:
        raise
    except OSError as exc:
        raise ExportError(MSG_WRITE.format(path=path, error=exc.strerror or exc)) from None
    except Exception as exc:  # noqa: BLE001 - the exporter raises many types; the user gets one message
        raise ExportError(MSG_FAILED.format(method=clf.method.name, backbone=clf.spec.name,
                                            error=f"{type(exc).__name__}: {str(exc)[:200]}")) from None
    return path


def read_onnx_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata_props of an ONNX file, as a dict of strings (needs ``onnx``)."""
    onnx = _import_onnx()
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf's decode errors have no common base
        raise ExportError(MSG_NOT_ONNX.format(path=path, error=str(exc)[:160])) from None
    return {p.key: p.value for p in model.metadata_props}


def studio_input(preprocess, base: torch.Tensor) -> np.ndarray:
    """uint8 base tensors (N, 3, R, R) (see :mod:`.preprocess`) -> the graph's input, uint8 (N, 3, S, S)."""
    s, r = preprocess.input_size, base.shape[-1]
    o = (r - s) // 2
    return np.ascontiguousarray(base[..., o:o + s, o:o + s].cpu().numpy())


@dataclass
class ParityReport:
    """How far onnxruntime's outputs are from PyTorch's on the same images."""

    images: int
    max_abs_diff_probabilities: float
    max_abs_diff_logits: float
    same_labels: int  # images whose most probable class is the same in both
    skipped: list[Skipped] = field(default_factory=list)
    tolerance: float = PROBABILITY_TOLERANCE

    @property
    def ok(self) -> bool:
        return self.max_abs_diff_probabilities <= self.tolerance and self.same_labels == self.images

    def __str__(self) -> str:
        verdict = "match" if self.ok else "DIFFER"
        return (f"onnxruntime and PyTorch {verdict} on {self.images} images: max abs difference "
                f"{self.max_abs_diff_probabilities:.2e} in probabilities (tolerance {self.tolerance:.0e}), "
                f"{self.max_abs_diff_logits:.2e} in logits; same label for {self.same_labels}/{self.images}")


def open_session(path: str | os.PathLike):
    """An onnxruntime CPU session for ``path`` (one thread, like the tests' torch)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError(MSG_NO_ORT) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ExportError(MSG_NOT_ONNX.format(path=path, error=str(exc)[:160])) from None


def _max_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference; infinite when either side holds NaN or infinity (never a silent 0)."""
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(d.max()) if d.size and np.isfinite(d).all() else (float("inf") if d.size else 0.0)


@torch.no_grad()
def check_onnx(clf, path: str | os.PathLike, images, *, batch_size: int = 16) -> ParityReport:
    """Run the same images through onnxruntime and through ``clf`` (PyTorch) and compare the outputs.

    images: image files or folders (walked). Unusable files are skipped, with the reason.
    """
    session = open_session(path)
    files, skipped = expand_paths(images)
    bases = []
    for file in files:
        try:
            bases.append(clf.preprocess.load([file]))
        except ImageError as exc:
            skipped.append(Skipped(Path(file), exc.reason))
    if not bases:
        why = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
        raise ExportError(MSG_NO_IMAGES + (f" (skipped {why})" if why else ""))
    diff_p = diff_l = 0.0
    same = 0
    base = torch.cat(bases)
    for start in range(0, len(base), batch_size):
        chunk = base[start:start + batch_size]
        feats = clf.features(clf.preprocess.view(chunk.to(clf.device)))[0]
        logits = _calibration(clf).apply(clf.method.logits(feats.float()).float()).cpu()  # what predict shows
        probs = F.softmax(logits, dim=-1)
        ort_probs, ort_logits = session.run(list(OUTPUTS[:2]), {INPUT: studio_input(clf.preprocess, chunk)})
        diff_p = max(diff_p, _max_difference(ort_probs, probs.numpy()))
        diff_l = max(diff_l, _max_difference(ort_logits, logits.numpy()))
        same += int((ort_probs.argmax(-1) == probs.argmax(-1).numpy()).sum())
    return ParityReport(len(base), diff_p, diff_l, same, skipped)


def example_script() -> Path:
    """The stand-alone predict example (needs only onnxruntime, pillow and numpy)."""
    from importlib.resources import files

    return Path(str(files("fewshot_studio.resources"))) / "examples" / "onnx_predict.py"
