# The heap m2x_micro keeps once imported, measured with nothing else loaded.
import gc
import sys


def kept():
    gc.collect()
    before = gc.mem_alloc()
    import m2x_micro  # noqa: F401

    gc.collect()
    return gc.mem_alloc() - before


def kept_in_place(image):
    """kept() with m2x_micro.mpy run in place from a ROMFS image, as a board runs it from a
    ROMFS partition: its bytecode and constants stay in flash instead of being copied to RAM."""
    import vfs

    with open(image, "rb") as f:
        flash = f.read()  # stands for the flash: read before the measurement starts
    vfs.mount(vfs.VfsRom(flash), "/rom")
    sys.path.insert(0, "/rom")
    return kept()
