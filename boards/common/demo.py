# make demo's scenario on the unix board (boards/unix/main.py): the seed's random-number
# data source, then the field part, readings through an outage. Built on the device's app.
from app import deliver, handle_commands, open_outbox, random_int, read_sensor
from m2x_micro import Device, Stream, format_iso8601, parse_iso8601


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
        posted.append(random_int(0, 100))
        stream.add_value(posted[-1])
    say("posted 10 random values: " + " ".join([str(v) for v in posted]))
    say("read back, newest first:")
    for value in stream.values()["values"]:
        say("  %s  %s" % (value["timestamp"], value["value"]))

    batch = {"values": [], "temperature": []}
    for _ in range(5):
        stamp = client.timestamp()  # captured with the reading
        batch["values"].append({"timestamp": stamp, "value": random_int(0, 100)})
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


def field_demo(client, device_id, readings, log_path="readings.log", say=print):
    """Take `readings` readings into the outbox, each also written to a log (what the
    sensor read, to check against the server later), then try to deliver once."""
    from m2x_micro.backoff import Backoff
    box = open_outbox(client, device_id, "outbox")
    with open(log_path, "a") as log:
        for _ in range(readings):
            stamp, value = client.stamp_ms(), read_sensor()
            box.add("temperature", value, format_iso8601(stamp))
            log.write("%d %s\n" % (stamp, value))
    say("took %d readings: %d queued in the outbox on flash" % (readings, box.pending()))
    deliver(client, box, Device(client, {"id": device_id}), Backoff(), say)
    return box.pending()


def field_check(client, device_id, log_path="readings.log", say=print):
    """Whether the server holds every logged reading once, with its stamp and value."""
    taken = {}
    with open(log_path) as log:
        for line in log:
            stamp, value = line.split()
            taken[int(stamp)] = float(value)
    stream = Stream(client, {"name": "temperature"}, "/devices/%s/streams" % device_id)
    stored = {}
    for value in stream.values(start=format_iso8601(min(taken)), limit=1000)["values"]:
        stored[parse_iso8601(value["timestamp"])] = float(value["value"])
    arrived = len([stamp for stamp in taken if stored.get(stamp) == taken[stamp]])
    say("%d of %d readings arrived, each once with its stamp and value (%d on the server since the first)" % (
        arrived, len(taken), len(stored)))
    return arrived == len(taken) == len(stored)
