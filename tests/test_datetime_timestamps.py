# CPython only (MicroPython has no datetime): naive means UTC, aware is converted.
from datetime import datetime, timedelta, timezone

import m2x_micro


def test_naive_datetime_is_utc():
    assert m2x_micro.iso8601(datetime(2015, 6, 25, 21, 6, 54, 841999)) == "2015-06-25T21:06:54.841Z"


def test_aware_datetime_is_converted_to_utc():
    pacific = timezone(timedelta(hours=-7))
    assert m2x_micro.iso8601(datetime(2015, 6, 25, 14, 6, 54, 841000, pacific)) == "2015-06-25T21:06:54.841Z"
    india = timezone(timedelta(hours=5, minutes=30))
    assert m2x_micro.iso8601(datetime(2015, 6, 26, 2, 36, 54, 0, india)) == "2015-06-25T21:06:54.000Z"
    assert m2x_micro.iso8601(datetime(2015, 6, 25, 21, 6, 54, tzinfo=timezone.utc)) == "2015-06-25T21:06:54.000Z"


def test_datetime_in_a_value_list_is_sent_in_api_form():
    from fake_http import FakeHTTP

    http = FakeHTTP().reply(202, {"status": "accepted"})
    client = m2x_micro.M2XClient("k", "http://m2x.test", transport=http)
    device = m2x_micro.Device(client, {"id": "d1"})
    device.post_updates(values={"t": [{"timestamp": datetime(2015, 2, 3, 0, 33, 43, 422440), "value": 400}]})
    assert http.last()[3] == {"values": {"t": [{"timestamp": "2015-02-03T00:33:43.422Z", "value": 400}]}}
