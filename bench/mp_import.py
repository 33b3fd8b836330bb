# The heap m2x_micro keeps once imported, measured with nothing else loaded.
import gc


def kept():
    gc.collect()
    before = gc.mem_alloc()
    import m2x_micro  # noqa: F401

    gc.collect()
    return gc.mem_alloc() - before
