# The device application, shared by every board: the device loop (boards/esp32) and what
# make demo's scenario uses of it (boards/common/demo.py). Portable MicroPython/CPython,
# like m2x_micro. Kept apart from the demo, and from a battery board's wake-up
# (boards/common/battery.py), so that a board's heap holds only the loop.
import time

from m2x_micro import Device, M2XError


def random_int(low, high):
    try:
        from random import randint
    except ImportError:  # a port without random: the clock's low bits will do
        return low + time.ticks_ms() % (high - low + 1)
    return randint(low, high)


def read_sensor():
    """A temperature in degrees C from the chip where it has a sensor, else a random one."""
    try:
        import esp32
        if hasattr(esp32, "mcu_temperature"):
            return esp32.mcu_temperature()
        return (esp32.raw_temperature() - 32) * 5 // 9
    except (ImportError, AttributeError, OSError):
        return 20 + random_int(0, 50) / 10


# Commands this device knows; anything else is rejected.
def _act(command, say):
    if command["name"] == "SAY_HELLO":
        say("  hello, operator")
        return True
    return False


def handle_commands(device, say=print):
    """Poll pending commands, process the known ones and reject the rest."""
    handled = 0
    for command in device.commands(status="pending")["commands"]:
        if _act(command, say):
            device.process_command(command["id"], response={"ok": True})
            say('  processed "%s"' % command["name"])
        else:
            device.reject_command(command["id"], reason="unknown command")
            say('  rejected "%s"' % command["name"])
        handled += 1
    return handled


# --- The device in the field: every reading goes to the outbox on flash first -------------
# A reading is safe once Outbox.add() returns: a reboot, a brown-out or an outage loses
# nothing (up to the outbox's size). Delivery is tried when enough readings are queued and
# the backoff says it is time; commands are polled after each delivery.

def open_outbox(client, device_id, directory):
    from m2x_micro.outbox import Outbox  # an add-on: imported only by what uses it
    return Outbox(client, device_id, directory)


def deliver(client, box, device, backoff, say=print):
    """Send what the outbox holds, once the backoff allows; then act on commands. Returns
    the number of readings delivered, or None when it did not try or failed."""
    if not backoff.ready():
        return None
    set_aside = box.set_aside
    try:
        if not client.clock_known():  # readings stamped before are dated by the outbox
            say("clock corrected by %d ms" % client.sync_time(set_rtc=True))
        sent = box.flush()
        backoff.succeeded()
    except M2XError as e:
        delay = backoff.failed(e)
        say("delivery failed (%s): %d readings kept, next try in %d ms" % (e, box.pending(), delay))
        return None
    say("delivered %d readings, %d set aside, %d dropped in all" % (sent, box.set_aside - set_aside, box.dropped))
    try:
        handle_commands(device, say)
    except M2XError as e:
        say("commands not polled: %s" % e)
    return sent


def device_loop(client, device_id, directory="outbox", stream="temperature", every_s=10, batch=6, rounds=None,
                online=None, sleep=time.sleep):
    """Read the sensor every every_s seconds into the outbox; deliver when `batch` readings
    are queued and the network is up (online(): whether it is, and a chance to reconnect).
    rounds: readings before returning (None: forever). Returns the outbox."""
    from m2x_micro.backoff import Backoff
    box = open_outbox(client, device_id, directory)
    backoff = Backoff()
    device = Device(client, {"id": device_id})  # no request: the network may be down at boot
    done = 0
    while rounds is None or done < rounds:
        try:
            box.add(stream, read_sensor())
            if box.pending() >= batch and (online is None or online()):
                deliver(client, box, device, backoff)
        except Exception as e:  # noqa: BLE001 - a device in the field keeps going
            print("error, carrying on:", repr(e))
        done += 1
        sleep(every_s)
    return box
