"""heldout: an independent synthetic scalp-micropigmentation photo generator with exact truth."""

__version__ = "1.0"
