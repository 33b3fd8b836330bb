# Groups of devices and what spans them: distributions, collections, metadata, commands, paging.
from e2e_common import client, new_device, status_of


def test_metadata_on_devices_distributions_and_collections():
    c = client()
    for resource in (new_device(c), c.create_distribution(name="d", visibility="private"), c.create_collection(name="c")):
        assert resource.update_metadata({"floor": 3, "room": "hall"}) is None
        assert resource.read_metadata() == {"floor": 3, "room": "hall"}
        resource.update_metadata_field("room", "attic")
        assert resource.read_metadata_field("room") == {"value": "attic"}


def test_distributions():
    c = client()
    dist = c.create_distribution(name="fleet", visibility="private", description="sensors")
    assert c.distribution(dist.id)["name"] == "fleet" and dist.id in [d.id for d in c.distributions()]
    member = dist.add_device("serial-e2e-1", name="fleet member")
    assert member["serial"] == "serial-e2e-1" and member["distribution"].endswith(dist.id)
    assert [d.id for d in dist.devices()] == [member.id]
    dist.update(name="fleet 2", visibility="private")
    assert c.distribution(dist.id)["name"] == "fleet 2"
    assert dist.remove() is None
    assert status_of(c.distribution, dist.id) == 404


def test_collections():
    c = client()
    coll = c.create_collection(name="building", description="all floors")
    device = new_device(c)
    assert c.collection(coll.id)["name"] == "building" and coll.id in [x.id for x in c.collections()]
    assert coll.add_device(device.id) is None
    assert [d.id for d in coll.devices()] == [device.id]
    assert coll.remove_device(device.id) is None
    assert coll.devices() == []
    coll.update(name="campus")
    assert c.collection(coll.id)["name"] == "campus"
    assert coll.remove() is None
    assert status_of(c.collection, coll.id) == 404


def test_commands_sent_processed_and_rejected():
    c = client()
    device = new_device(c)
    first = c.send_command(name="SAY_HELLO", data={"to": "you"}, targets={"devices": [device.id]})
    second = c.send_command(name="SELF_DESTRUCT", targets={"devices": [device.id]})
    assert first.id in [cmd.id for cmd in c.commands()]
    assert c.command(first.id)["data"] == {"to": "you"}
    board = client(device.key).device(device.id)
    pending = board.commands(status="pending")["commands"]
    assert sorted([cmd["name"] for cmd in pending]) == ["SAY_HELLO", "SELF_DESTRUCT"]
    assert board.command(first.id)["data"] == {"to": "you"}
    assert board.process_command(first.id, response={"ok": True}) is None
    assert board.reject_command(second.id, reason="no") is None
    assert board.commands(status="pending")["commands"] == []
    counts = c.command(first.id)["status_counts"]
    assert (counts["processed"], counts["pending"]) == (1, 0)
    assert status_of(board.process_command, first.id) == 422


def test_iterate_walks_every_page():
    c = client()
    ids = [new_device(c, "page %d" % i, tags=["paged"]).id for i in range(5)]
    walked = [d.id for d in c.iterate(c.devices_search, tags="paged", limit=2)]
    assert sorted(walked) == sorted(ids)
    assert c.pagination["pages"] == 3
