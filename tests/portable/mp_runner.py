# Runs the portable test_* functions on MicroPython (no pytest there) and prints
# "N passed, N failed". Usage: micropython mp_runner.py [module ...]
import gc
import os
import sys


def test_modules():
    names = [n[:-3] for n in os.listdir(".") if n.startswith("test_") and n.endswith(".py")]
    names.sort()
    return names


def run(module_names):
    passed = failed = 0
    for name in module_names:
        module = __import__(name)
        for attr in sorted(dir(module)):
            if not attr.startswith("test_"):
                continue
            gc.collect()  # each test starts from the same heap, as on a board between tasks
            try:
                getattr(module, attr)()
                passed += 1
            except Exception as e:  # noqa: BLE001 - a runner reports every failure
                failed += 1
                print("FAIL %s.%s" % (name, attr))
                sys.print_exception(e)
        del sys.modules[name]  # one test module in memory at a time: boards have little
        module = None
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if run(sys.argv[1:] or test_modules()) else 0)
