"""Drawing the conditions of one photo from its seed.

Key conditions are STRATIFIED over blocks of 60 consecutive seeds (0-59, 60-119, ...): within a
block each condition visits every one of its strata equally often (a fixed random permutation per
condition and block), independently of the others, so that any 60-seed block covers the whole
range.  Values inside a stratum, and all secondary conditions, come from per-photo generators.
Everything depends on the seed only (never on --kind), so seed S rendered as `bare` has the same
skin, camera and framing as seed S rendered `mixed`."""

import zlib

import numpy as np

from .colour import LUMA, lab_to_rgb


def stream(seed, k):
    """The numpy Generator of stream k of photo `seed`."""
    return np.random.default_rng([int(seed), int(k), 0x48454C44])


def stratum(seed, name, K):
    block, p = divmod(int(seed), 60)
    rng = np.random.default_rng([block, zlib.crc32(name.encode()), 0x57A7])
    return int(rng.permutation(60)[p] % K)


SKIN_L = {1: 70.0, 2: 63.0, 3: 56.0, 4: 49.0, 5: 42.0, 6: 35.0}
SKIN_B = {1: 13.0, 2: 15.5, 3: 17.5, 4: 18.5, 5: 17.0, 6: 14.0}
SCALE_BANDS = [(15.0, 30.0), (30.0, 60.0), (60.0, 120.0)]
BLUR_LEVELS = [(0.0, 0.5), (0.5, 1.4), (1.4, 2.8), (2.8, 6.0)]  # defocus disc radius, px
FADE_LEVELS = [(0.0, 0.12), (0.12, 0.4), (0.4, 0.65), (0.65, 0.88)]
JPEG_LEVELS = [(50, 64), (65, 79), (80, 89), (90, 95)]
OBLIQUE_LEVELS = [(0.0, 5.0), (5.0, 15.0), (15.0, 30.0)]
REGIONS = ["none", "hairline", "patch", "scar"]

# "Cameras": fixed EXIF strings and the ranges their settings are drawn from.
CAMERAS = {
    "dermatoscope": {
        "make": "HeldoutOptics", "model": "PolarScope D20", "polarised": True, "demosaic": "mhc",
        "k1": (-0.02, -0.005), "vignetting": (0.10, 0.30), "sharpen": (0.2, 0.7), "nr": [0.0, 0.8, 1.6],
        "full_well": (3000, 12000), "read_e": (2.0, 5.0), "ae": (0.0, 0.3), "cct": (4800, 6000),
        "wb_sd": (0.0, 0.05), "motion_p": 0.05,
        "Mcam": [[0.78, 0.19, 0.03], [0.12, 0.78, 0.10], [0.03, 0.22, 0.75]],
    },
    "phone_a": {
        "make": "HeldoutMobile", "model": "Macro Phone A1", "polarised": False, "demosaic": "mhc",
        "k1": (-0.05, -0.015), "vignetting": (0.15, 0.40), "sharpen": (0.5, 1.4), "nr": [0.8, 1.6, 3.0],
        "full_well": (1200, 6000), "read_e": (2.5, 6.0), "ae": (0.3, 0.7), "cct": (3000, 6500),
        "wb_sd": (0.02, 0.12), "motion_p": 0.4,
        "Mcam": [[0.70, 0.25, 0.05], [0.15, 0.72, 0.13], [0.04, 0.28, 0.68]],
    },
    "phone_b": {
        "make": "HeldoutMobile", "model": "Clip-Lens B7", "polarised": False, "demosaic": "bilinear",
        "k1": (-0.05, -0.01), "vignetting": (0.15, 0.40), "sharpen": (0.3, 1.0), "nr": [0.0, 0.8, 1.6],
        "full_well": (1500, 8000), "read_e": (2.0, 6.0), "ae": (0.3, 0.7), "cct": (3000, 6500),
        "wb_sd": (0.02, 0.12), "motion_p": 0.4,
        "Mcam": [[0.74, 0.22, 0.04], [0.14, 0.74, 0.12], [0.05, 0.25, 0.70]],
    },
    "clinic": {
        "make": "HeldoutImaging", "model": "MacroCam M100", "polarised": False, "demosaic": "mhc",
        "k1": (-0.015, 0.0), "vignetting": (0.05, 0.20), "sharpen": (0.2, 0.8), "nr": [0.0, 0.8],
        "full_well": (6000, 25000), "read_e": (1.5, 4.0), "ae": (0.1, 0.5), "cct": (3200, 6500),
        "wb_sd": (0.0, 0.08), "motion_p": 0.2,
        "Mcam": [[0.82, 0.16, 0.02], [0.10, 0.82, 0.08], [0.02, 0.18, 0.80]],
    },
}


def loguniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def draw(seed, max_px=2000):
    rng = stream(seed, 1)
    u = rng.uniform
    c = {"seed": int(seed)}
    # --- skin
    t = stratum(seed, "skin", 6) + 1
    c["skin_type"] = t
    lab = np.array([SKIN_L[t] + u(-2.5, 2.5), u(7.0, 13.0), SKIN_B[t] + u(-2.0, 2.0)])
    c["skin_lab_target"] = lab
    c["skin_rgb"] = np.maximum(lab_to_rgb(lab), 0.004)
    # --- scale and frame
    lo, hi = SCALE_BANDS[stratum(seed, "scale", 3)]
    s = loguniform(rng, lo, hi)
    c["px_per_mm"] = s
    width_mm = u(15.0, 40.0)
    aspect = [4 / 3, 3 / 2, 1.0, 16 / 9][int(rng.choice(4, p=[0.5, 0.25, 0.1, 0.15]))]
    long_px = int(np.clip(round(width_mm * s), 640, max_px))
    long_px = min(long_px, int(max_px))
    short_px = int(round(long_px / aspect))
    long_px -= long_px % 2
    short_px -= short_px % 2
    portrait = u() < 0.3
    c["width"], c["height"] = (short_px, long_px) if portrait else (long_px, short_px)
    # --- view
    obl_level = stratum(seed, "oblique", 3)
    cam_name = None
    if obl_level == 0 and u() < 0.55:
        cam_name = "dermatoscope"
    else:
        cam_name = ["phone_a", "phone_b", "clinic"][int(rng.choice(3, p=[0.35, 0.35, 0.3]))]
    cam = CAMERAS[cam_name]
    c["camera"] = cam_name
    c["make"], c["model"] = cam["make"], cam["model"]
    c["oblique_deg"] = u(*OBLIQUE_LEVELS[obl_level])
    c["tilt_az_deg"] = u(0, 360)
    c["roll_deg"] = u(0, 360)
    c["curvature_radius_mm"] = u(80.0, 100.0)
    diag_mm = np.hypot(c["width"], c["height"]) / s
    c["distance_mm"] = diag_mm * u(2.5, 5.0)
    c["k1"] = u(*cam["k1"])
    c["vignetting"] = u(*cam["vignetting"])
    # --- blur
    bl = stratum(seed, "blur", 4)
    c["blur_level"] = bl
    r = u(*BLUR_LEVELS[bl])
    c["defocus_radius_px"] = float(min(r, max(0.5, 0.13 * s)))
    if u() < cam["motion_p"]:
        c["motion_px"] = u(0.4, 2.5)
        c["motion_angle_deg"] = u(0, 180)
    else:
        c["motion_px"] = 0.0
        c["motion_angle_deg"] = 0.0
    # --- codec and orientation
    cl = stratum(seed, "codec", 5)
    if cl == 4:
        c["codec"], c["quality"], c["chroma"] = "png", None, None
    else:
        c["codec"] = "jpeg"
        c["quality"] = int(rng.integers(JPEG_LEVELS[cl][0], JPEG_LEVELS[cl][1] + 1))
        c["chroma"] = "444" if u() < 0.2 else "420"
    o = 1
    if c["codec"] == "jpeg" and u() < 0.4:
        o = int(rng.choice([6, 8, 3, 2, 5, 7, 4], p=[0.35, 0.25, 0.2, 0.05, 0.05, 0.05, 0.05]))
    c["orientation"] = o
    # --- sensor and ISP
    c["full_well"] = loguniform(rng, *cam["full_well"])
    c["read_e"] = u(*cam["read_e"])
    c["raw_level"] = u(0.15, 0.45)
    c["ev_error"] = float(np.clip(rng.normal(0, 0.3), -0.7, 0.7))
    c["ae_strength"] = u(*cam["ae"])
    c["cct"] = u(*cam["cct"])
    wsd = u(*cam["wb_sd"])
    c["wb_error"] = np.exp(rng.normal(0, wsd, 2)) if wsd > 0 else np.ones(2)
    c["tone_c"] = u(1.0, 1.25)
    c["tone_w"] = u(0.95, 1.3)
    c["sharpen_amount"] = u(*cam["sharpen"])
    c["sharpen_sigma"] = u(0.7, 1.6)
    c["nr_strength"] = float(rng.choice(cam["nr"]))
    c["nr_sigma_s"] = u(0.8, 1.4)
    c["chroma_nr"] = u(0.7, 2.5)
    c["demosaic"] = cam["demosaic"]
    c["Mcam"] = cam["Mcam"]
    c["polarised"] = cam["polarised"]
    # --- fade, distractors, region
    c["fade_level"] = stratum(seed, "fade", 4)
    c["fade"] = u(*FADE_LEVELS[c["fade_level"]])
    c["distractors_on"] = stratum(seed, "distractors", 3) < 2
    c["region_type"] = REGIONS[stratum(seed, "region", 4)]
    # which distractors (drawn for every kind; the kind decides about hair and ink)
    on = c["distractors_on"]
    c["want"] = {
        "stubble": on and u() < 0.55,
        "hair": on and u() < 0.35,
        "freckle": on and u() < 0.45,
        "mole": on and u() < 0.3,
        "scar": (on and u() < 0.25) or c["region_type"] == "scar",
        "flake": on and u() < 0.4,
        "shine": on and (not cam["polarised"]) and u() < 0.55,
    }
    c["erythema"] = u(0.03, 0.15) if c["fade_level"] == 0 else u(0.0, 0.05)
    c["date"] = "20%02d:%02d:%02d 10:%02d:%02d" % (
        int(rng.integers(20, 26)), int(rng.integers(1, 13)), int(rng.integers(1, 29)),
        int(rng.integers(0, 60)), int(rng.integers(0, 60)))
    c["skin_Y"] = float(LUMA @ c["skin_rgb"])
    return c
