"""A local M2X API v2 server on SQLite, standard library only.

    from m2x_server import make_server
    server = make_server(port=0, db_path="m2x.sqlite3").start()
    print(server.url, server.master_key)
    server.shutdown()

Or from a shell: python -m m2x_server --port 8080 --db m2x.sqlite3
"""

__version__ = "0.1.0"

from .httpd import Server, make_server  # noqa: E402  (httpd reads __version__)

__all__ = ["Server", "make_server", "__version__"]
