# The device application, shared by every board: the demo scenario (boards/unix, make demo)
# and the device loop (boards/esp32). Portable MicroPython/CPython, like m2x_micro.
import time

from m2x_micro import Device, M2XError


def _random(low, high):
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
        return 20 + _random(0, 50) / 10


def demo(client, say=print):
    """The seed's random-number data source, then a batch, stats and commands."""
    device = client.create_device(name="RNG Device Example", visibility="private",
                                  description="Device for RandomNumberGenerator example")
    say('created device "%s" (id %s)' % (device["name"], device["id"]))
    stream = device.create_stream("values")
    device.create_stream("temperature", unit={"label": "celsius", "symbol": "C"})
    say('created streams "values" and "temperature"')

    posted = []
    for _ in range(10):
        posted.append(_random(0, 100))
        stream.add_value(posted[-1])
    say("posted 10 random values: " + " ".join([str(v) for v in posted]))
    say("read back, newest first:")
    for value in stream.values()["values"]:
        say("  %s  %s" % (value["timestamp"], value["value"]))

    batch = {"values": [], "temperature": []}
    for _ in range(5):
        stamp = client.timestamp()  # captured with the reading
        batch["values"].append({"timestamp": stamp, "value": _random(0, 100)})
        batch["temperature"].append({"timestamp": stamp, "value": read_sensor()})
        time.sleep(0.002)  # one value per stream and millisecond: the next gets a new stamp
    device.post_updates(values=batch)
    say("posted a batch of 5 readings to 2 streams in one request (post_updates)")
    stats = stream.stats()["stats"]
    say("stats of \"values\": count %d, min %s, max %s, avg %.1f" % (
        stats["count"], stats["min"], stats["max"], float(stats["avg"])))

    for name in ("SAY_HELLO", "SELF_DESTRUCT"):
        client.send_command(name=name, data={"from": "operator"}, targets={"devices": [device["id"]]})
    say("the operator sent 2 commands to the device")
    handled = handle_commands(device, say)
    say("the device handled %d pending command(s)" % handled)
    return device


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


def device_loop(client, device_id, stream="temperature", every_s=10, batch=6, keep=120, rounds=None):
    """Read the sensor every every_s seconds, stamped at capture; post `batch` readings at
    a time; poll commands; survive network errors, keeping at most `keep` readings."""
    device = Device(client, {"id": device_id})  # no request: the network may be down at boot
    readings = []
    done = 0
    while rounds is None or done < rounds:
        readings.append({"timestamp": client.timestamp(), "value": read_sensor()})
        if len(readings) >= batch:
            try:
                device.post_updates(values={stream: readings})
                readings = []
                handle_commands(device)
            except M2XError as e:
                print("will retry:", e)
                readings = readings[-keep:]
        done += 1
        time.sleep(every_s)
