"""The installed package: public names, docstrings with units, typing files, optional extras."""

import importlib.resources
import inspect
import subprocess
import sys

import smpscope


def test_public_api():
    for name in (
        "analyze",
        "analyze_many",
        "track",
        "summaries",
        "Analysis",
        "Batch",
        "Failure",
        "Track",
        "SmpscopeError",
        "PhotoError",
        "ParameterError",
        "ScaleError",
        "RegistrationError",
        "DateError",
    ):
        assert name in smpscope.__all__ and hasattr(smpscope, name)
    assert smpscope.__version__.count(".") == 2


def test_docstrings_name_units():
    for f in (smpscope.analyze, smpscope.analyze_many, smpscope.track):
        assert f.__doc__ and len(f.__doc__) > 300
    assert "px_per_mm" in smpscope.analyze.__doc__ and "um" in smpscope.analyze.__doc__
    assert "cm^2" in smpscope.Analysis.__doc__ and "OD*mm^2" in smpscope.Analysis.__doc__
    assert "um" in smpscope.Track.__doc__ and "months" in smpscope.Track.__doc__
    for name, member in inspect.getmembers(smpscope.Analysis):
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property)):
            assert member.__doc__, name


def test_type_stubs_and_py_typed_are_installed():
    files = importlib.resources.files("smpscope")
    assert files.joinpath("py.typed").is_file()
    stub = files.joinpath("_smpscope.pyi").read_text()
    for f in ("def analyze(", "def analyze_many(", "def track(", "def overlay("):
        assert f in stub


def test_numpy_is_the_only_hard_dependency():
    from importlib.metadata import requires

    hard = [r for r in requires("smpscope") if "extra ==" not in r]
    assert [r.split(">")[0].split("=")[0].strip() for r in hard] == ["numpy"]


def test_imports_without_optional_extras():
    code = (
        "import sys\n"
        "for m in ('pandas', 'matplotlib', 'dask', 'distributed', 'tqdm'):\n"
        "    sys.modules[m] = None\n"
        "import smpscope, smpscope.cluster\n"
        "a = smpscope.analyze(sys.argv[1], px_per_mm=40)\n"
        "b = smpscope.analyze_many([sys.argv[1]], px_per_mm=40, progress=True)\n"
        "assert isinstance(a.dots, dict) and isinstance(b.summaries(), dict)\n"
        "print('ok')\n"
    )
    from conftest import PHOTOS

    out = subprocess.run([sys.executable, "-c", code, str(PHOTOS / "demo-1.jpg")], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
