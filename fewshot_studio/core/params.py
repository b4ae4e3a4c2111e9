"""Hyperparameter definitions: dataclass fields with a help line, a valid range and per-backbone defaults.

A method declares its hyperparameters once, as a dataclass built from :func:`hparam` fields; the command
line parses ``--param name=value`` against it and the window generates its form from :func:`describe`.

A default may depend on the kind of backbone the method runs on (:data:`BACKBONE_KINDS`, see
``BackboneSpec.kind``): ``hparam(0.4, ..., pretrained=0.01)`` is 0.01 on an ImageNet-pretrained backbone
and 0.4 on the others. :func:`make_params` with ``kind=`` resolves them; a value given explicitly always wins.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, get_type_hints

from .errors import ParameterError

PRETRAINED, META_TRAINED, RANDOM = "pretrained", "meta-trained", "random"
BACKBONE_KINDS = (PRETRAINED, META_TRAINED, RANDOM)  # what a backbone's weights are; see BackboneSpec.kind
_KIND_ARGS = {"pretrained": PRETRAINED, "meta_trained": META_TRAINED, "random": RANDOM}
_UNSET = object()


@dataclass(frozen=True)
class ParamSpec:
    """What a form or a parser needs to know about one hyperparameter."""

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    log_scale: bool = False
    by_kind: tuple[tuple[str, Any], ...] = ()  # (backbone kind, default) where it differs from ``default``

    def default_for(self, kind: str | None) -> Any:
        """The default on a backbone of this kind (:data:`BACKBONE_KINDS`; None: the plain default)."""
        return dict(self.by_kind).get(kind, self.default)


def hparam(default, help: str, *, low=None, high=None, choices=None, log_scale=False, pretrained=_UNSET,
           meta_trained=_UNSET, random=_UNSET):
    """A dataclass field that carries its own description, range, and the defaults that differ by backbone
    kind: ``pretrained=`` (ImageNet weights), ``meta_trained=`` (a meta-training checkpoint), ``random=``
    (a built-in backbone that was never trained). ``default`` applies to every kind not given."""
    by_kind = tuple((_KIND_ARGS[arg], value) for arg, value in
                    (("pretrained", pretrained), ("meta_trained", meta_trained), ("random", random))
                    if value is not _UNSET)
    meta = {"help": help, "low": low, "high": high, "log_scale": log_scale,
            "choices": tuple(choices) if choices else None, "by_kind": by_kind}
    return dataclasses.field(default=default, metadata=meta)


def describe(params_cls) -> list[ParamSpec]:
    hints = get_type_hints(params_cls)
    return [
        ParamSpec(f.name, hints[f.name], f.default, f.metadata.get("help", ""), f.metadata.get("low"),
                  f.metadata.get("high"), f.metadata.get("choices"), f.metadata.get("log_scale", False),
                  f.metadata.get("by_kind", ()))
        for f in dataclasses.fields(params_cls)
    ]


MSG_NOT_FINITE = "{name} must be a finite number, not {value!r}"
MSG_SEED = "the seed must be a whole number from 0 to {high}, not {value!r}"
#: Seeds go to torch, NumPy and Python's random: a range all of them take.
SEED_MAX = 2**32 - 1


def defaults_for(params_cls, kind: str | None) -> dict[str, Any]:
    """Every hyperparameter's default on a backbone of ``kind`` (None: the plain defaults)."""
    return {spec.name: spec.default_for(kind) for spec in describe(params_cls)}


def kind_dependent(params_cls) -> bool:
    """Whether any default of ``params_cls`` depends on the backbone kind."""
    return any(spec.by_kind for spec in describe(params_cls))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(spec: ParamSpec, value: Any) -> Any:
    if spec.type is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ParameterError(f"{spec.name} must be true or false, not {value!r}")
    try:
        if spec.type is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        coerced = spec.type(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{spec.name} must be {spec.type.__name__}, not {value!r}") from None
    if isinstance(coerced, float) and not math.isfinite(coerced):
        raise ParameterError(MSG_NOT_FINITE.format(name=spec.name, value=value))
    if spec.choices and coerced not in spec.choices:
        raise ParameterError(f"{spec.name} must be one of {', '.join(spec.choices)}, not {value!r}")
    if spec.low is not None and coerced < spec.low or spec.high is not None and coerced > spec.high:
        raise ParameterError(f"{spec.name} must be between {spec.low} and {spec.high}, not {value!r}")
    return coerced


def make_params(params_cls, values: dict[str, Any] | None = None, kind: str | None = None):
    """Build and validate a params instance from defaults plus ``values`` (strings are parsed).

    ``kind``: the backbone kind whose defaults apply (:data:`BACKBONE_KINDS`); ``values`` always win.
    """
    if kind is not None and kind not in BACKBONE_KINDS:
        raise ValueError(f"backbone kind must be one of {', '.join(BACKBONE_KINDS)}, not {kind!r}")
    specs = {s.name: s for s in describe(params_cls)}
    retired = getattr(params_cls, "RETIRED", ())  # names a method no longer has; files may still hold them
    values = {k: v for k, v in (values or {}).items() if k not in retired}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ParameterError(
            f"unknown hyperparameter {', '.join(unknown)}; this method takes: {', '.join(specs) or 'none'}")
    kind_defaults = {name: spec.default_for(kind) for name, spec in specs.items() if spec.by_kind}
    return params_cls(**{**kind_defaults, **{name: _coerce(specs[name], v) for name, v in values.items()}})


def validate(params) -> None:
    """Check every field of an existing params instance against its range."""
    for spec in describe(type(params)):
        _coerce(spec, getattr(params, spec.name))


def check_seed(value) -> int:
    """A random seed as an int in 0..:data:`SEED_MAX`; raises ParameterError otherwise."""
    try:
        seed = int(value)
        if isinstance(value, float) or str(value).strip() != str(seed):
            raise ValueError
    except (TypeError, ValueError):
        raise ParameterError(MSG_SEED.format(high=SEED_MAX, value=value)) from None
    if not 0 <= seed <= SEED_MAX:
        raise ParameterError(MSG_SEED.format(high=SEED_MAX, value=value))
    return seed


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["lr=0.01", "steps=5"]`` -> ``{"lr": "0.01", "steps": "5"}``."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"hyperparameter {item!r} must be written NAME=VALUE, for example lr=0.01")
        out[name.strip().replace("-", "_")] = value.strip()
    return out
