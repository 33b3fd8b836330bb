# Assertions the portable tests share (no pytest on MicroPython).


def raises(exc_type, fn, *args, **kw):
    """Call fn and return the exc_type it raised; fail if it raised nothing."""
    try:
        fn(*args, **kw)
    except exc_type as e:
        return e
    assert False, "%s not raised" % exc_type.__name__
