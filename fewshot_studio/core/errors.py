"""Errors a user can act on. Each message says what went wrong and what to do next.

Everything derived from :class:`FewShotError` is *bad input or a bad situation*, not a bug: the command
line prints its message on one line and exits with status 2; the window shows it in a dialog.
"""

from __future__ import annotations


class FewShotError(Exception):
    """Base class of every error whose message is meant for the user."""


class ImageError(FewShotError):
    """A file that cannot be used as an image. ``path`` names it, ``reason`` says why."""

    def __init__(self, path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class SupportSetError(FewShotError):
    """The support set cannot be used as it is (too few classes, empty class, bad name...)."""


class UnknownNameError(FewShotError, KeyError):
    """A name that is not in a registry; the message lists the choices."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class BackboneError(FewShotError):
    """A backbone cannot be built: weights missing, wrong file, unsupported feature."""


class WeightsUnavailableError(BackboneError):
    """Pretrained weights are neither cached nor downloadable right now."""


class ModelFileError(FewShotError):
    """A saved model that cannot be read: corrupt, truncated, foreign or from a newer version."""


class ParameterError(FewShotError):
    """A hyperparameter value that is out of range or of the wrong type."""


class DeviceError(FewShotError):
    """The requested device does not exist here, or ran out of memory."""


class RunCancelled(FewShotError):
    """The run was cancelled by the user; the previous model is kept."""

    def __init__(self, step: int, total: int):
        self.step = step
        self.total = total
        super().__init__(f"cancelled after step {step} of {total}; the previous model is kept")


class DivergedError(FewShotError):
    """The loss became NaN or infinite; the run stopped and the previous model is kept."""
