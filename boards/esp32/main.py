# The device loop: every reading goes to the outbox on flash first, then to the server when
# it can (see app.py). The clock starts at 2000-01-01 after power-up: the loop takes the
# server's time as soon as it can, and the outbox dates the readings taken before.
# With DEEP_SLEEP_S in config.py the board sleeps between readings (battery boards): each
# wake-up reads, queues, and every BATCH wake-ups joins the WiFi and delivers.
import config
import wifi
from client import make_client

client = make_client(config)
outbox = getattr(config, "OUTBOX_DIR", "outbox")
sleep_s = getattr(config, "DEEP_SLEEP_S", None)
if sleep_s:
    try:
        from battery import wake  # only a battery board keeps it in its heap

        wake(client, config.DEVICE_ID, outbox, flush_every=config.BATCH,
             online=lambda: wifi.connect(getattr(config, "WIFI_TRIES", 3), getattr(config, "WIFI_WAIT_S", 15)))
    except Exception as e:  # noqa: BLE001 - a battery board awake at a prompt would drain it
        print("error, sleeping anyway:", repr(e))
    import machine
    machine.deepsleep(sleep_s * 1000)  # the board starts again from boot.py
else:
    from app import device_loop

    print("posting to device %s at %s" % (config.DEVICE_ID, config.M2X_ENDPOINT))
    device_loop(client, config.DEVICE_ID, outbox, every_s=config.EVERY_S, batch=config.BATCH,
                rounds=getattr(config, "ROUNDS", None), online=wifi.online)
