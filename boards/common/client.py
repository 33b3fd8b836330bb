# The board's client, as its config.py describes it; shared by every board's main.py. Kept
# apart from app.py so that the device loop's heap holds only the loop.
from m2x_micro import M2XClient


def make_client(config):
    """The client for config.M2X_ENDPOINT. With config.CA (the name of a file holding the
    CA's certificate, e.g. "ca.der") it goes through the keep-alive transport, which
    verifies an https server against that CA; TLS_INSECURE = True instead skips the check
    (for trying things out only). Without either: the board's urequests, one connection a
    request."""
    ca, insecure = getattr(config, "CA", None), getattr(config, "TLS_INSECURE", False)
    transport = None
    if ca or insecure:
        from m2x_micro.transport import Transport  # an add-on: imported only when used
        transport = Transport(ca=ca, insecure=insecure)
    return M2XClient(config.M2X_KEY, config.M2X_ENDPOINT, timeout=getattr(config, "TIMEOUT_S", 10),
                     transport=transport)
