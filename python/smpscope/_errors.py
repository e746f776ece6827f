"""The exceptions smpscope raises: one class per kind of problem, all under SmpscopeError.

Every exception carries ``kind`` (the machine-readable kind of the core's error records, e.g.
``"unreadable_photo"``) and ``source`` (the photo or file it concerns, or None). They pickle,
so they cross process boundaries (Dask workers) intact.
"""

from __future__ import annotations


class SmpscopeError(Exception):
    """Base class of every smpscope error."""

    kind: str | None
    source: str | None

    def __init__(self, message: str, kind: str | None = None, source: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.source = source

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return (type(self), (self.message, self.kind, self.source))


class PhotoError(SmpscopeError):
    """A photo could not be read (missing file, corrupt, truncated, unsupported format) or
    cannot be measured (too small, too large, NaN or out-of-range pixels, unsupported array
    dtype or shape). Kinds: ``io``, ``unreadable_photo``, ``unusable_photo``."""


class ParameterError(SmpscopeError, ValueError):
    """A parameter is invalid, or a file given as a parameter (device profiles, region of
    interest) is missing or malformed. Also a ValueError. Kinds: ``invalid_parameter``,
    ``bad_input_file``."""


class ScaleError(SmpscopeError):
    """A photo has no scale (no ``px_per_mm`` and no matching device profile) where one was
    required (``require_scale=True``). Kind: ``missing_scale``."""


class RegistrationError(SmpscopeError):
    """A visit cannot be registered onto the first one (another scalp area, or too few dots).
    Kind: ``registration``."""


class DateError(SmpscopeError):
    """A visit has no capture date: none in its EXIF and none given in ``dates``.
    Kind: ``missing_date``."""


__all__ = ["DateError", "ParameterError", "PhotoError", "RegistrationError", "ScaleError", "SmpscopeError"]
