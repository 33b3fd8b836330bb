# The heap m2x_micro keeps once imported, measured with nothing else loaded.
import gc
import sys


# The modules of the port that m2x_micro imports, imported before the measurement: C modules
# on a board, which keep no heap, but Python ones on the webassembly port (binascii, os and
# time there keep 8 KB).
PORT_MODULES = ("binascii", "json", "os", "random", "time")


def kept(*modules):
    """The heap kept after importing modules (by default the core, m2x_micro)."""
    for name in PORT_MODULES:
        __import__(name)
    gc.collect()
    before = gc.mem_alloc()
    for name in modules or ("m2x_micro",):
        __import__(name)
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
