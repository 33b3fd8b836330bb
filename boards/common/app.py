# The device application, shared by every board: the demo scenario (boards/unix, make demo)
# and the device loop (boards/esp32). Portable MicroPython/CPython, like m2x_micro.
import time

from m2x_micro import Device, HTTPError, M2XError, format_iso8601


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


def _sync_clock(client, readings):
    """Take the server's time (into the RTC where there is one). Readings stamped before,
    by a clock that starts at the epoch after boot, move by the same correction."""
    try:
        correction = client.sync_time(set_rtc=True)
    except M2XError as e:
        print("no server time yet (%s): stamping by the board's clock for now" % e)
        return False
    for reading in readings:
        reading[0] += correction
    print("clock corrected by %d ms" % correction)
    return True


def _post(device, stream, readings):
    """Post the readings; True when they are done with (posted, or refused for good)."""
    try:
        device.post_updates(values={stream: [{"timestamp": format_iso8601(ms), "value": v} for ms, v in readings]})
        return True
    except M2XError as e:
        if isinstance(e, HTTPError) and 400 <= e.status < 500 and e.status not in (408, 429):  # retrying cannot help
            print("dropped %d readings: %s %s" % (len(readings), e, e.errors))
            return True
        print("will retry %d readings: %s" % (len(readings), e))
    return False


def device_loop(client, device_id, stream="temperature", every_s=10, batch=6, keep=120, rounds=None, online=None):
    """Read the sensor every every_s seconds, stamped when read; post `batch` readings at a
    time and poll commands. Survives network errors, keeping the last `keep` readings, and
    takes the server's time as soon as it can. online(): whether the network is up (and a
    chance to reconnect); rounds: readings before returning (None: forever)."""
    device = Device(client, {"id": device_id})  # no request: the network may be down at boot
    readings = []  # [Unix ms, value]
    synced = False
    done = 0
    while rounds is None or done < rounds:
        readings.append([client.stamp_ms(), read_sensor()])
        if len(readings) >= batch and (online is None or online()):
            try:
                synced = synced or _sync_clock(client, readings)
                if _post(device, stream, readings):
                    readings = []
                    handle_commands(device)
            except Exception as e:  # noqa: BLE001 - a device in the field keeps going
                print("error, carrying on:", repr(e))
        if len(readings) > keep:
            del readings[0]  # the oldest goes first
        done += 1
        time.sleep(every_s)
