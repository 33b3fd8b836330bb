# A battery board's wake-up between deep sleeps (boards/esp32/main.py with DEEP_SLEEP_S),
# built on the device loop's parts (app.py); apart from it, so that a board that stays
# awake does not keep this code in its heap.
from app import deliver, open_outbox, read_sensor
from m2x_micro import Device, M2XError


def wake(client, device_id, directory="outbox", stream="temperature", flush_every=6, online=None):
    """One wake-up of a battery board between deep sleeps: read the sensor into the outbox,
    and every flush_every readings join the network and deliver. A failed delivery is tried
    again flush_every wake-ups later: the wake cadence is the backoff. While the clock is not
    known (the first wake-up after power-up), it joins the network first to set it.
    Returns the outbox."""
    from m2x_micro.backoff import Backoff
    box = open_outbox(client, device_id, directory)
    if not client.clock_known() and (online is None or online()):
        # After a power-up (not a deep sleep, which the RTC counts through) the clock is not
        # known: each wake-up is a new boot, so the outbox could not date this reading later.
        try:
            client.sync_time(set_rtc=True)
        except M2XError as e:
            print("clock not set (%s): this reading may not be datable" % e)
    box.add(stream, read_sensor())
    pending = box.pending()
    if pending % flush_every == 0 and (online is None or online()):
        deliver(client, box, Device(client, {"id": device_id}), Backoff())
    else:
        print("%d readings queued" % pending)
    return box
