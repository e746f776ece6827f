"""Shared fixtures: the repository's demo photos, the demo patient series and device profiles."""

import json
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "fixtures" / "photos"
PATIENT = ROOT / "fixtures" / "patient"
PROFILES = ROOT / "fixtures" / "devices.toml"
BROKEN = ROOT / "fixtures" / "real" / "broken"


@pytest.fixture(scope="session")
def demo_photos():
    return sorted(PHOTOS.glob("demo-*.jpg"))


@pytest.fixture(scope="session")
def patient_visits():
    visits = sorted(PATIENT.glob("visit-*.jpg"))
    assert len(visits) >= 3, f"the demo patient series is missing from {PATIENT}"
    return visits


@pytest.fixture(scope="session")
def patient_truth():
    return json.loads((PATIENT / "series.truth.json").read_text())


def truth(name):
    return json.loads((PHOTOS / f"{name}.truth.json").read_text())


def synthetic_rgb(h=200, w=260, seed=1):
    """A small RGB scalp-like image with three dark dots, as uint8."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 190, np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    for cx, cy in [(60, 60), (150, 100), (200, 160)]:
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < 12] = 70
    return np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
