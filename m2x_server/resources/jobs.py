"""Jobs: values exports complete at once; their CSV is served under an unguessable token."""

import secrets

from ..app import Response, ok
from ..errors import NotFound
from ..paging import paginate
from ..storage import new_id
from ..timefmt import format_ms

EXPORT_SUFFIX = ".csv"


def create_export_job(ctx, device_id, csv_text):
    job_id = new_id()
    ctx.execute(
        "INSERT INTO jobs (id, device_id, state, token, csv, created, started, finished, updated)"
        " VALUES (?, ?, 'complete', ?, ?, ?, ?, ?, ?)",
        (job_id, device_id, secrets.token_urlsafe(32), csv_text, ctx.now, ctx.now, ctx.now, ctx.now),
    )
    return job_id


def job_json(ctx, row):
    return {
        "id": row["id"],
        "state": row["state"],
        "output": None,
        "errors": None,
        "started": format_ms(row["started"]),
        "finished": format_ms(row["finished"]),
        "created": format_ms(row["created"]),
        "updated": format_ms(row["updated"]),
        # Like the real service's pre-signed links: no key needed, the token is the secret.
        "result": {"url": "%s/exports/%s%s" % (ctx.request.base_url, row["token"], EXPORT_SUFFIX)},
    }


def list_jobs(ctx):
    rows = ctx.query("SELECT * FROM jobs ORDER BY created DESC, rowid DESC")
    return paginate(ctx, "jobs", rows, job_json)


def get_job(ctx):
    return ok(job_json(ctx, ctx.target))


def download_export(ctx):
    name = ctx.path["file"]
    token = name[: -len(EXPORT_SUFFIX)] if name.endswith(EXPORT_SUFFIX) else None
    row = ctx.query_one("SELECT csv FROM jobs WHERE token = ?", (token,)) if token else None
    if row is None:
        raise NotFound.of("export")
    return Response(200, row["csv"], content_type="text/csv")
