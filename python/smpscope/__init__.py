"""smpscope: measure scalp micropigmentation (SMP) pigment dots in scalp photos.

Functions: ``analyze`` (one photo), ``analyze_many`` (a batch on all cores), ``track`` (the
same dots across visits: fade, spread, colour shift, touch-up forecast), ``report`` (the
clinician's HTML report of a photo or a series), ``summaries`` (a tidy table of per-photo
summaries). ``smpscope.cluster`` runs batches on a Dask cluster.

Units: dot lengths in micrometres (``*_um``) with pixel twins (``*_px``, always given);
spacing in millimetres; areas in cm^2; density in dots per cm^2; ink in OD*mm^2 (integrated
optical density, OD = -log10(reflectance / local skin reflectance)); colours CIELAB (D65);
dates ISO 8601. Without a scale (``px_per_mm`` or a device profile, ``profiles=``) lengths
are None and a warning says so, never guessed.

Errors: ``SmpscopeError`` and its subclasses ``PhotoError``, ``ParameterError`` (also a
ValueError), ``ScaleError``, ``RegistrationError``, ``DateError``.
"""

from __future__ import annotations

from . import _smpscope
from ._api import analyze, analyze_many, report, track
from ._errors import DateError, ParameterError, PhotoError, RegistrationError, ScaleError, SmpscopeError
from ._results import Analysis, Batch, Failure, summaries
from ._track import Track

__version__: str = _smpscope.__version__
ANALYSIS_SCHEMA: str = _smpscope.ANALYSIS_SCHEMA
TRACK_SCHEMA: str = _smpscope.TRACK_SCHEMA

__all__ = [
    "ANALYSIS_SCHEMA",
    "TRACK_SCHEMA",
    "Analysis",
    "Batch",
    "DateError",
    "Failure",
    "ParameterError",
    "PhotoError",
    "RegistrationError",
    "ScaleError",
    "SmpscopeError",
    "Track",
    "analyze",
    "analyze_many",
    "report",
    "summaries",
    "track",
]
