# One pytest run covers both interpreters: the portable suite again, on MicroPython,
# with m2x_micro (the core and its add-ons) imported from source and from the mpy-cross
# build of the folder.
import pytest

from micropython_tools import PORTABLE, ROOT, compile_mpy, compile_package, defined_tests, run_portable_tests


def portable_test_count():
    return sum(len(defined_tests(path)) for path in PORTABLE.glob("test_*.py"))


@pytest.mark.parametrize("form", ["py", "mpy"])
def test_portable_suite_passes_on_micropython(form, tmp_path):
    if form == "py":
        client_dir = ROOT
    else:
        compile_package(tmp_path)
        client_dir = tmp_path
    passed, failed, code = run_portable_tests([], [client_dir])
    assert (passed, failed, code) == (portable_test_count(), 0, 0)


def test_client_and_add_ons_compile_with_mpy_cross(tmp_path):
    mpy = compile_mpy(ROOT / "m2x_micro" / "__init__.py", tmp_path)
    assert mpy.read_bytes()[:1] == b"M"  # the .mpy magic
    compiled = sorted(path.name for path in compile_package(tmp_path).iterdir())
    assert compiled == sorted(path.stem + ".mpy" for path in (ROOT / "m2x_micro").glob("*.py"))
