# Error mapping, and bad input refused before a byte is sent.
import m2x_micro
from checks import raises
from fake_http import FakeHTTP

KEY = "secret-key-0123456789abcdef"


def client_with(http):
    return m2x_micro.M2XClient(KEY, "http://m2x.test:8080", timeout=5, transport=http)


def device_of(client):
    return m2x_micro.Device(client, {"id": "d1", "name": "dev"})


def stream_of(client):
    return m2x_micro.Stream(client, {"name": "t"}, "/devices/d1/streams")


def test_http_errors_carry_status_message_and_errors():
    http = FakeHTTP()
    http.reply(422, {"message": "Validation Failed", "errors": {"name": ["not_present"]}})
    e = raises(m2x_micro.HTTPError, client_with(http).create_device, visibility="private")
    assert e.status == 422
    assert e.message == "Validation Failed"
    assert e.errors == {"name": ["not_present"]}
    assert "422" in str(e) and "Validation Failed" in str(e)
    assert isinstance(e, m2x_micro.M2XError)
    assert http.all_closed()


def test_each_error_status_maps_to_http_error():
    for status, body in ((400, {"message": "bad timestamp"}), (401, {"message": "no key"}),
                         (403, {"message": "forbidden"}), (404, {"message": "The specified device does not exist"}),
                         (413, {"message": "too large"}), (500, {"error": "Foo Error"})):
        http = FakeHTTP().reply(status, body)
        e = raises(m2x_micro.HTTPError, client_with(http).device, "d1")
        assert e.status == status
        assert e.message == body.get("message", body.get("error"))
        assert e.errors == {}
        assert http.all_closed()


def test_error_body_that_is_not_json_still_gives_a_message():
    http = FakeHTTP().reply(502, "<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    e = raises(m2x_micro.HTTPError, client_with(http).status)
    assert e.status == 502 and "Bad Gateway" in e.message


def test_retry_after_on_429_and_503():
    for status in (429, 503):
        http = FakeHTTP().reply(status, {"message": "slow down"}, {"retry-after": "7"})
        e = raises(m2x_micro.HTTPError, client_with(http).devices)
        assert e.retry_after == 7
    e = raises(m2x_micro.HTTPError, client_with(FakeHTTP().reply(503, {"message": "x"})).devices)
    assert e.retry_after is None


def test_transport_oserror_becomes_network_error_with_errno():
    http = FakeHTTP().fail(OSError(110))
    e = raises(m2x_micro.NetworkError, client_with(http).status)
    assert e.errno == 110
    assert isinstance(e, m2x_micro.M2XError)
    http = FakeHTTP().fail(OSError(-202))  # an ESP32 DNS failure
    assert raises(m2x_micro.NetworkError, client_with(http).status).errno == -202


def test_transport_valueerror_becomes_network_error():
    http = FakeHTTP().fail(ValueError("Unsupported Transfer-Encoding: chunked"))
    e = raises(m2x_micro.NetworkError, client_with(http).status)
    assert e.errno is None and "chunked" in str(e)


class ResetWhileReading:
    def read(self, n):
        raise OSError(104)  # connection reset while reading the body


class BrokenBody:
    def __init__(self):
        self.status_code = 200
        self.headers = {}
        self.raw = ResetWhileReading()
        self.closed = False

    def close(self):
        self.closed = True


class BrokenBodyHTTP(FakeHTTP):
    def request(self, method, url, data=None, headers=None, timeout=None, stream=None):
        self.calls.append((method, url, data, headers, timeout))
        response = BrokenBody()
        self.responses.append(response)
        return response


def test_failure_while_reading_the_body_is_a_network_error_and_closes():
    http = BrokenBodyHTTP()
    assert raises(m2x_micro.NetworkError, client_with(http).status).errno == 104
    assert http.all_closed()


def test_success_with_a_body_that_is_not_json_is_an_m2x_error():
    http = FakeHTTP().reply(200, "{not json", {"Content-Type": "application/json"})
    raises(m2x_micro.M2XError, client_with(http).status)
    assert http.all_closed()


def test_the_api_key_never_shows():
    http = FakeHTTP().reply(404, {"message": "no key " + KEY})
    client = client_with(http)
    e = raises(m2x_micro.HTTPError, client.key, KEY)
    http.fail(OSError(113))
    n = raises(m2x_micro.NetworkError, client.key, KEY)
    for text in (str(e), repr(e), e.message, str(n), repr(n), repr(client), repr(device_of(client))):
        assert KEY not in text, text


def test_bad_ids_refused_before_sending():
    http = FakeHTTP()
    client = client_with(http)
    for call in (client.device, client.distribution, client.collection, client.key, client.command, client.job):
        raises(TypeError, call, 123)
        raises(TypeError, call, None)
        raises(ValueError, call, "")
    device = device_of(client)
    raises(ValueError, device.stream, "")
    raises(TypeError, device.create_stream, 5)
    raises(ValueError, device.process_command, "")
    raises(TypeError, device.read_metadata_field, None)
    assert http.calls == []


def test_empty_names_refused_before_sending():
    http = FakeHTTP()
    client = client_with(http)
    raises(ValueError, client.create_device, name="", visibility="private")
    raises(ValueError, client.create_distribution, name="", visibility="private")
    raises(ValueError, client.create_collection, name="")
    raises(ValueError, client.create_key, name="", permissions=["GET"])
    raises(ValueError, device_of(client).update, name="", visibility="private")
    assert http.calls == []


def test_bad_values_refused_before_sending():
    http = FakeHTTP()
    client = client_with(http)
    stream, device = stream_of(client), device_of(client)
    for bad in (float("nan"), float("inf"), -float("inf")):
        raises(ValueError, stream.add_value, bad)
        raises(ValueError, stream.post_values, [{"value": 1}, {"value": bad}])
        raises(ValueError, device.post_update, values={"t": bad})
        raises(ValueError, device.post_updates, values={"t": [{"value": bad, "timestamp": 0}]})
    for bad in (None, True, [1], {"v": 1}, b"12"):
        raises(TypeError, stream.add_value, bad)
        raises(TypeError, device.post_updates, values={"t": [{"value": bad}]})
    raises(TypeError, stream.post_values, {"value": 1})
    raises(TypeError, stream.post_values, [5])
    raises(TypeError, device.post_updates, values=[1, 2])
    assert http.calls == []


def test_bad_timestamps_refused_before_sending():
    http = FakeHTTP()
    client = client_with(http)
    stream, device = stream_of(client), device_of(client)
    raises(ValueError, stream.add_value, 1, "2015-02-30T00:00:00Z")
    raises(ValueError, stream.post_values, [{"value": 1, "timestamp": "soon"}])
    raises(ValueError, stream.delete_values, "2015-01-01T00:00:00Z", "not a time")
    raises(ValueError, device.post_updates, values={"t": [{"value": 1, "timestamp": "2015-13-01T00:00:00Z"}]})
    raises(ValueError, device.values, start="last week")
    raises(TypeError, device.update_location, latitude=1, longitude=2, timestamp=[2015])
    assert http.calls == []


def test_nan_and_infinity_refused_anywhere_in_a_body():
    # Free-form JSON too (metadata, stream attributes, command data): they are not JSON.
    http = FakeHTTP()
    client = client_with(http)
    device = device_of(client)
    calls = len(http.calls)
    raises(ValueError, device.update_metadata_field, "gain", float("nan"))
    raises(ValueError, device.update_metadata, {"limits": [0, float("inf")]})
    raises(ValueError, device.create_stream, "t", display_name=float("nan"))
    raises(ValueError, client.send_command, name="GO", data={"speed": [-float("inf")]})
    assert len(http.calls) == calls
    http.reply(204)  # words that merely look like them go
    device.update_metadata({"note": "financial info: NaN, Infinity", "ratio": 0.5})
    assert http.last()[3] == {"note": "financial info: NaN, Infinity", "ratio": 0.5}


def test_a_key_that_would_break_the_header_is_refused_and_not_echoed():
    for bad in ("abc\r\nX-Evil: 1", "key\n", "two words", "caf\u00e9"):
        e = raises(ValueError, m2x_micro.M2XClient, bad, "http://m2x.test", transport=FakeHTTP())
        assert bad not in str(e), str(e)


def test_bad_client_settings():
    raises(TypeError, m2x_micro.M2XClient, 1234)
    raises(ValueError, m2x_micro.M2XClient, "")
    raises(ValueError, m2x_micro.M2XClient, "k", "ftp://m2x.test")
    raises(ValueError, m2x_micro.M2XClient, "k", "m2x.test")
    raises(ValueError, m2x_micro.M2XClient, "k", "http://m2x.test", timeout=0)
    raises(ValueError, m2x_micro.M2XClient, "k", "http://m2x.test", timeout=None)
    raises(ValueError, m2x_micro.M2XClient, "k", "http://m2x.test", timeout=float("inf"))
    for bad in (0, -1, 1.5, None, True):
        raises(ValueError, m2x_micro.M2XClient, "k", "http://m2x.test", max_body=bad)
    assert m2x_micro.M2XClient("k", None, transport=FakeHTTP()).endpoint == "https://api-m2x.att.com"
