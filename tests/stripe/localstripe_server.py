"""Run localstripe on 127.0.0.1 only, without its pickle file in /tmp (tests start it)."""

import sys

from aiohttp import web
from localstripe import server
from localstripe.resources import store

# Each test session starts from an empty store and leaves nothing behind on disk.
type(store).dump_to_disk = lambda self: None

if __name__ == "__main__":
    web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
