"""The route table: (method, path template) -> (handler, access rule)."""

from urllib.parse import unquote

from .errors import MethodNotAllowed, NotFound


def split_path(path):
    """'/v2/devices/a%20b/' -> ['v2', 'devices', 'a b']: segments decoded one by one."""
    return [unquote(segment) for segment in path.strip("/").split("/") if segment]


class Route:
    def __init__(self, method, template, handler, access):
        self.method = method
        self.template = template
        self.handler = handler
        self.access = access
        self.segments = split_path(template)
        # Literal segments win over {params} at the first position where templates differ,
        # so /devices/catalog is not read as the device "catalog".
        self.specificity = tuple(segment.startswith("{") for segment in self.segments)

    def match(self, segments):
        """The path parameters if the segments fit this template, else None."""
        if len(segments) != len(self.segments):
            return None
        params = {}
        for pattern, segment in zip(self.segments, segments):
            if pattern.startswith("{"):
                params[pattern[1:-1]] = segment
            elif pattern != segment:
                return None
        return params


class Router:
    def __init__(self, routes):
        self.routes = sorted(routes, key=lambda route: route.specificity)

    def resolve(self, method, segments):
        """(route, path params); 404 for an unknown path, 405 for a known path and other verb."""
        matches = [(route, route.match(segments)) for route in self.routes]
        matches = [(route, params) for route, params in matches if params is not None]
        if not matches:
            raise NotFound("No such endpoint")
        best = matches[0][0].template
        same_path = [(route, params) for route, params in matches if route.template == best]
        for route, params in same_path:
            if route.method == method:
                return route, params
        allowed = ", ".join(sorted(route.method for route, _ in same_path))
        raise MethodNotAllowed("Method %s is not allowed here" % method, headers=[("Allow", allowed)])
