"""Request parameters: query string, JSON or form body, merged into one dict, and validated.

Clients send the same fields as query parameters, JSON bodies (also on GET and DELETE) or
form-encoded bodies; the handlers see one dict. Query and form values arrive as strings, so
every typed accessor below also accepts the string spelling of its type.
"""

import json
import math
import re
from urllib.parse import parse_qs

from .errors import BadRequest, ValidationFailed
from .timefmt import parse_iso8601


class _Missing:
    """A field the request did not name (unlike None, an explicit JSON null)."""

    def __bool__(self):
        return False

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()

# ASCII decimal only: int() and float() also take "٣", "1_000" and "infinity".
_INTEGER_RE = re.compile(r"\s*[+-]?[0-9]+\s*")
_NUMBER_RE = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def parse_query(text):
    """'a=1&b=2&b=3&c[]=4' -> {'a': '1', 'b': ['2', '3'], 'c': ['4']}."""
    parsed = {}
    for name, values in parse_qs(text, keep_blank_values=True).items():
        if name.endswith("[]"):
            parsed[name[:-2]] = values
        else:
            parsed[name] = values[0] if len(values) == 1 else values
    return parsed


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def parse_body(content_type, body):
    """The body's fields as a dict: JSON, or form fields when labelled so and not JSON-looking."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8") from None
    # A body that looks like JSON is JSON, whatever its Content-Type says (curl -d and
    # several device libraries label JSON as form data).
    if "x-www-form-urlencoded" in (content_type or "").lower() and text.lstrip()[:1] not in ("{", "["):
        return parse_query(text)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise BadRequest("Malformed JSON in the request body: %s" % exc) from None
    except RecursionError:
        raise BadRequest("Malformed JSON in the request body: nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object")
    # A \ud800 escape decodes to a lone surrogate, which no database text can hold. Only an
    # escape can make one (the UTF-8 decoding refused encoded ones), so most bodies skip this.
    if "\\u" in text:
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("Malformed JSON in the request body: a lone UTF-16 surrogate escape") from None
    return data


def parse_number(value):
    """A finite int or float from a JSON number or a numeric string, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("not numeric")
    if isinstance(value, str):
        if not _NUMBER_RE.fullmatch(value):
            raise ValueError("not numeric")
        value = int(value) if _INTEGER_RE.fullmatch(value) else float(value)
    if isinstance(value, int) and not -2**63 <= value < 2**63:  # SQLite integers are 64-bit
        try:
            value = float(value)
        except OverflowError:
            raise ValueError("too large") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not finite")
    return value


def pick(**fields):
    """The fields that were given, for partial updates."""
    return {name: value for name, value in fields.items() if value is not MISSING}


class Params:
    """Typed access to request fields; problems are collected and raised together by check()."""

    def __init__(self, data):
        self.data = data
        self.errors = {}

    def fail(self, name, reason):
        self.errors.setdefault(name, []).append(reason)
        return MISSING

    def check(self):
        if self.errors:
            raise ValidationFailed(self.errors)

    def _get(self, name, required, nullable):
        """The raw value; MISSING when absent (or when null is not accepted)."""
        value = self.data.get(name, MISSING)
        if value is None and not nullable:
            value = MISSING
        if value is MISSING and required:
            self.fail(name, "not_present")
        return value

    def string(self, name, required=False, nullable=False, choices=None, max_length=1000):
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return self.fail(name, "not_a_string")
        if required and not value.strip():
            return self.fail(name, "not_present")
        if choices and value not in choices:
            return self.fail(name, "must be one of: %s" % ", ".join(choices))
        if len(value) > max_length:
            return self.fail(name, "too_long")
        return value

    def integer(self, name, default=MISSING, minimum=None, maximum=None):
        """An int; values above maximum are clamped (the API's rule for limits)."""
        value = self._get(name, False, False)
        if value is MISSING:
            return default
        if isinstance(value, str) and _INTEGER_RE.fullmatch(value):
            try:
                value = int(value)
            except ValueError:  # more digits than int() converts: not_an_integer below
                pass
        if isinstance(value, bool) or not isinstance(value, int):
            return self.fail(name, "not_an_integer")
        if minimum is not None and value < minimum:
            return self.fail(name, "must be at least %d" % minimum)
        return value if maximum is None else min(value, maximum)

    def number(self, name, required=False, nullable=False):
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        try:
            return parse_number(value)
        except ValueError:
            return self.fail(name, "not_numeric")

    def timestamp(self, name, required=False, nullable=False):
        """Unix milliseconds. A malformed timestamp is a 400, not a validation failure."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        try:
            return parse_iso8601(value)
        except ValueError:
            raise BadRequest("Invalid timestamp in '%s': %r" % (name, value)) from None

    def string_list(self, name, required=False, nullable=False):
        """A list of strings, given as a list or as one comma-separated string."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return self.fail(name, "not_a_list_of_strings")
        return [item.strip() for item in value if item.strip()]

    def mapping(self, name, required=False, nullable=False):
        value = self._get(name, required, nullable)
        if value is MISSING or value is None:
            return value
        if not isinstance(value, dict):
            return self.fail(name, "not_an_object")
        return value
