# Microdot's API on linger (see microdot.py and docs/micropython.md).
# SPDX-License-Identifier: MIT
from microdot.microdot import Microdot, Request, Response, abort, redirect, \
    send_file, URLPattern, AsyncBytesIO, iscoroutine  # noqa: F401
from microdot.microdot import linger_config  # noqa: F401  (linger's server settings)

__version__ = '2.6.2'  # the Microdot API it follows
