"""The pure parts of m2x_server: timestamps, routing and request parameters."""

import pytest

from m2x_server.errors import MethodNotAllowed, NotFound
from m2x_server.params import MISSING, Params, parse_number, parse_query
from m2x_server.routing import Route, Router, split_path
from m2x_server.timefmt import format_ms, parse_iso8601


@pytest.mark.parametrize("text, ms", [
    ("1970-01-01T00:00:00.000Z", 0),
    ("2015-04-21T03:36:42.347Z", 1429587402347),
    ("2015-04-21T03:36:42.347999Z", 1429587402347),
    ("2015-04-21t03:36:42z", 1429587402000),
    ("2015-04-21T05:36:42.347+02:00", 1429587402347),
    ("2015-04-20T22:06:42.347-0530", 1429587402347),
    ("2016-02-29T00:00:00Z", 1456704000000),
])
def test_parse_iso8601(text, ms):
    assert parse_iso8601(text) == ms


@pytest.mark.parametrize("text", ["2015-04-21T03:36:42", "2015-02-30T00:00:00Z", "2015-04-21T24:00:00Z",
                                  "2015-04-21 03:36:42Z", "", None, 1429587402])
def test_parse_iso8601_rejects(text):
    with pytest.raises(ValueError):
        parse_iso8601(text)


def test_format_ms_round_trips():
    assert format_ms(1429587402347) == "2015-04-21T03:36:42.347Z"
    assert format_ms(0) == "1970-01-01T00:00:00.000Z"
    assert parse_iso8601(format_ms(1700000000001)) == 1700000000001


def _handler(ctx):
    return None


def test_router_prefers_literal_segments_and_reports_allowed_methods():
    router = Router([
        Route("GET", "/v2/devices/{device}", _handler, None),
        Route("PUT", "/v2/devices/{device}", _handler, None),
        Route("GET", "/v2/devices/catalog", _handler, None),
    ])
    route, params = router.resolve("GET", split_path("/v2/devices/catalog"))
    assert route.template == "/v2/devices/catalog" and params == {}
    route, params = router.resolve("PUT", split_path("/v2/devices/a%2Fb/"))
    assert params == {"device": "a/b"}
    with pytest.raises(MethodNotAllowed) as error:
        router.resolve("DELETE", split_path("/v2/devices/x"))
    assert error.value.headers == [("Allow", "GET, PUT")]
    with pytest.raises(NotFound):
        router.resolve("GET", split_path("/v2/devices/x/y"))


def test_parse_query_keeps_repeats_and_bracket_lists():
    assert parse_query("a=1&b=2&b=3&c[]=4&d=") == {"a": "1", "b": ["2", "3"], "c": ["4"], "d": ""}


def test_parse_number():
    assert parse_number("23") == 23 and parse_number(" -2.5 ") == -2.5 and parse_number(7) == 7
    for bad in ("nan", "inf", "x", True, None, [1], float("nan")):
        with pytest.raises(ValueError):
            parse_number(bad)


def test_params_collect_every_problem():
    params = Params({"name": "  ", "limit": "x", "tags": "a, b,", "value": None})
    assert params.string("name", required=True) is MISSING
    assert params.integer("limit", 10) is MISSING
    assert params.string_list("tags") == ["a", "b"]
    assert params.string("value") is MISSING and params.string("value", nullable=True) is None
    assert params.errors == {"name": ["not_present"], "limit": ["not_an_integer"]}
