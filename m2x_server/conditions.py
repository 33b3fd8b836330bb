"""Comparison filters such as {"temperature": {"gt": 20, "lte": 30}}.

Used by values search (conditions on values) and device search (stream values, metadata).
"""

import operator

from .params import parse_number

OPERATORS = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "match": operator.eq,
}


def parse(params, field, value, shorthand_eq=False):
    """{name: {op: operand}} checked; with shorthand_eq, {name: operand} means equality.

    Problems are recorded on params (a 422 at params.check()); returns {} then.
    """
    if not isinstance(value, dict):
        params.fail(field, "not_an_object")
        return {}
    parsed = {}
    for name, ops in value.items():
        if shorthand_eq and not isinstance(ops, dict):
            ops = {"eq": ops}
        if not isinstance(ops, dict):
            params.fail(field, "%s: not_an_object" % name)
            continue
        unknown = sorted(set(ops) - set(OPERATORS))
        if unknown:
            params.fail(field, "%s: unknown operator %s (use %s)" % (name, unknown[0], ", ".join(OPERATORS)))
            continue
        parsed[name] = ops
    return parsed


def satisfies(actual, ops):
    return all(_compare(op, actual, expected) for op, expected in ops.items())


def _compare(op, actual, expected):
    if isinstance(actual, (int, float)) and isinstance(expected, str):
        try:
            expected = parse_number(expected)
        except ValueError:
            return False
    try:
        return OPERATORS[op](actual, expected)
    except TypeError:
        return False
