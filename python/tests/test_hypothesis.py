"""Property tests of the arrays handed to ``smpscope.analyze``: any shape, dtype (byte order
included) and values (NaN, infinities, tiny and huge) give an analysis or a smpscope error,
never another exception or a crash."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import smpscope

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    # The same examples on every run: the suite must not pass or fail by chance.
    derandomize=True,
)

DTYPES = st.one_of(
    st.sampled_from([np.uint8, np.uint16, np.float16, np.float32, np.float64]).map(np.dtype),
    st.sampled_from(["<u2", ">u2", ">f4", ">f8", "<f8"]).map(np.dtype),
    st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64, np.bool_, np.complex64]).map(
        np.dtype
    ),
)

# Grey, RGB and RGBA images and every other shape (0-d to 4-d, empty sides, 2 or 5 channels).
SHAPES = st.one_of(
    st.tuples(st.integers(0, 80), st.integers(0, 80)),
    st.tuples(st.integers(0, 80), st.integers(0, 80), st.sampled_from([1, 2, 3, 4, 5])),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
)


def _elements(dtype):
    if dtype.kind == "f":
        # Mostly in 0..1, with out-of-range, tiny, huge and non-finite values among them.
        return st.one_of(
            st.floats(0, 1, width=dtype.itemsize * 8),
            st.floats(width=dtype.itemsize * 8, allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, 1.0, 5e-324 if dtype.itemsize == 8 else 0.0, -0.0]),
        )
    return None


@st.composite
def images(draw):
    dtype = draw(DTYPES)
    return draw(hnp.arrays(dtype, draw(SHAPES), elements=_elements(dtype)))


def _analyze(arr, **kw):
    try:
        a = smpscope.analyze(arr, **kw)
    except smpscope.SmpscopeError as e:
        assert e.kind and str(e), e
        return None
    assert a.summary["dot_count"] >= 0
    return a


@SETTINGS
@given(arr=images(), scaled=st.booleans())
def test_any_array_gives_an_analysis_or_a_smpscope_error(arr, scaled):
    a = _analyze(arr, px_per_mm=40.0 if scaled else None, threads=1)
    if a is not None:
        # Only what the docs accept can be measured.
        assert arr.ndim in (2, 3) and arr.dtype.kind in "uf", (arr.shape, arr.dtype)
        assert a.image["width"] == arr.shape[1] and a.image["height"] == arr.shape[0]


@SETTINGS
@given(
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70)),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64]),
)
def test_uniform_extremes_never_crash(value, dtype):
    with np.errstate(all="ignore"):
        try:
            arr = np.full((24, 32, 3), value).astype(dtype)
        except (OverflowError, ValueError):
            return
    _analyze(arr, px_per_mm=40.0, threads=1)


@SETTINGS
@given(px_per_mm=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_any_scale_is_used_or_refused(px_per_mm):
    rng = np.random.default_rng(7)
    arr = (180 + rng.integers(0, 20, (40, 48, 3))).astype(np.uint8)
    _analyze(arr, px_per_mm=px_per_mm, threads=1)


def test_a_huge_array_view_is_refused_before_it_is_copied():
    # A 400 MP read-only view of one pixel: refused by the size limit, nothing is copied.
    view = np.broadcast_to(np.zeros(3, np.uint8), (20000, 20000, 3))
    with pytest.raises(smpscope.PhotoError, match="MP"):
        smpscope.analyze(view)
    # A strided view inside the limit is read like a copy of it.
    base = (180 + np.random.default_rng(3).integers(0, 20, (120, 160, 3))).astype(np.uint8)
    a, b = smpscope.analyze(base[::2, ::2], threads=1), smpscope.analyze(base[::2, ::2].copy(), threads=1)
    assert a.summary["dot_count"] == b.summary["dot_count"]
