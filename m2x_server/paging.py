"""Pagination (page, limit, total, pages, current_page and Link headers) and sorting."""

from urllib.parse import urlencode

from .app import ok

DIRECTIONS = ("asc", "desc")


def order_by(ctx, columns, default, default_dir="asc"):
    """An ORDER BY clause from the request's sort and dir; columns maps names to SQL."""
    sort = ctx.params.string("sort", choices=tuple(columns)) or default
    direction = ctx.params.string("dir", choices=DIRECTIONS) or default_dir
    # rowid keeps the order stable among equal keys (insertion order).
    return "%s %s, rowid %s" % (columns[sort], direction.upper(), direction.upper())


def paginate(ctx, items_key, rows, serialize, default_limit=100, max_limit=100, min_limit=0):
    """200 with one page of rows (already filtered and sorted) and the pagination fields."""
    page = ctx.params.integer("page", 1, minimum=1)
    limit = ctx.params.integer("limit", default_limit, minimum=min_limit, maximum=max_limit)
    ctx.params.check()
    total = len(rows)
    pages = -(-total // limit) if limit else 0
    chunk = rows[(page - 1) * limit:page * limit]
    body = {
        items_key: [serialize(ctx, row) for row in chunk],
        "total": total,
        "pages": pages,
        "limit": limit,
        "current_page": page,
    }
    return ok(body, link_headers(ctx, page, pages))


def link_headers(ctx, page, pages):
    last = max(pages, 1)
    links = [("first", 1), ("last", last)]
    if page < last:
        links.append(("next", page + 1))
    return [("Link", '<%s>; rel="%s"' % (_page_url(ctx, number), rel)) for rel, number in links]


def _page_url(ctx, number):
    query = {name: value for name, value in ctx.request.query.items() if name != "page"}
    query["page"] = number
    return "%s%s?%s" % (ctx.request.base_url, ctx.request.path, urlencode(query, doseq=True))
