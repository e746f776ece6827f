"""heldout_series: an independent synthetic generator of scalp-micropigmentation photo series.

Self-contained (numpy, scipy, Pillow). See README.md next to this package.
"""

__version__ = "1.0.0"
SCHEMA = "heldout.series/1"
