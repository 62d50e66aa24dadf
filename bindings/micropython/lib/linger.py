# linger for MicroPython: the asyncio side of the native module _linger.
#
# One task drives linger's loop: it runs a turn of it (everything that is
# ready, never waiting), then waits in asyncio's own I/O queue on the Loop
# object until linger has work again -- a descriptor ready or linger's next
# timer due (on the unix port the Loop is an epoll set holding linger's
# sockets and a timerfd, so the kernel does the waiting). linger's
# callbacks wake the tasks that wait on a request, an answer or a fetch by
# putting them back on asyncio's run queue. Nothing polls.
#
# The microdot and aiohttp packages next to this file are built on it.
# SPDX-License-Identifier: MIT

import _linger
from asyncio import core

_lp = None
_queue = None  # the I/O queue the driver waits in (a new event loop needs a new driver)

ERR_LIMIT = _linger.ERR_LIMIT
ERR_CLOSED = _linger.ERR_CLOSED


def _wake(task):
    core._task_queue.push(task)


def _drive(lp):
    # A generator, as asyncio's own streams are: it parks itself in the I/O
    # queue with a bare yield.
    while True:
        try:
            t = lp.run()
        except Exception as e:  # a bug in the glue: keep serving
            import sys

            sys.print_exception(e)
            t = 0
        if t == 0:
            yield from core.sleep_ms(0)
        else:
            yield core._io_queue.queue_read(lp)


def loop():
    """The native loop, with its driver task running on asyncio's loop."""
    global _lp, _queue
    if _lp is None:
        _lp = _linger.loop()
        _lp.set_wake(_wake)
    if _queue is not core._io_queue:
        _queue = core._io_queue
        core.create_task(_drive(_lp))
    return _lp


def start(coro):
    """A task for coro whose first step runs now, from inside linger's
    turn (a route's callback): a request with no body to wait for and a
    handler that does not wait is answered in that step, and never goes
    through asyncio's run queue (a push, a pop and a turn of its loop with
    a poll() each). A coroutine that does wait parks the new task, as it
    would have parked it had asyncio started it."""
    t = core.Task(coro)
    prev = core.cur_task
    core.cur_task = t
    try:
        coro.send(None)
    except StopIteration:
        pass
    finally:
        core.cur_task = prev
    return t


def park(obj):
    # Await this to wait for obj's next event (a body piece, a drain, the
    # end): obj keeps the task, linger's callback puts it back on the run
    # queue. A cancelled task is taken off obj by asyncio (obj.remove).
    t = core.cur_task
    obj.wait(t)
    t.data = obj
    yield


# --- header fields -----------------------------------------------------------


class CaselessDict(dict):
    """A dict whose str keys are looked up without regard to case (header
    fields); a key keeps the case it was first stored with. What
    microdot's NoCaseDict and aiohttp's CIMultiDict are built on."""

    def __init__(self, pairs=()):
        super().__init__()
        self._keys = {}  # lowered -> as stored
        for k, v in pairs:
            self[k] = v

    def __setitem__(self, key, value):
        kl = key.lower()
        stored = self._keys.get(kl)
        if stored is None:
            self._keys[kl] = stored = key
        super().__setitem__(stored, value)

    def __getitem__(self, key):
        return super().__getitem__(self._keys.get(key.lower(), key))

    def __delitem__(self, key):
        super().__delitem__(self._keys.pop(key.lower(), key))

    def __contains__(self, key):
        return key.lower() in self._keys

    def get(self, key, default=None):
        stored = self._keys.get(key.lower())
        return default if stored is None else super().__getitem__(stored)


# --- server side -----------------------------------------------------------


async def read(req, n=-1):
    """Up to n bytes of a request's body (n < 0: what has come, at least a
    byte); b'' at its end. OSError when the body failed."""
    while True:
        b = req.take(n)
        if b is not None:
            return b
        await park(req)


async def read_all(req, limit=0):
    """The whole body (collected without pausing), at most limit bytes."""
    req.read_start(limit, 0)
    while not req.body_done():
        await park(req)
    b = req.take(-1)
    req.take(-1)  # b'' -- or the OSError the body ended with
    return b


PIECE = 16384


async def write(req, data):
    """Write a piece of a streamed answer, waiting while the client is
    slower than we are. Returns 0, or the lg_err that ended the answer
    (the client left: stop writing, and end())."""
    if not data:
        return 0
    mv = memoryview(data)
    i = 0
    n = len(mv)
    while i < n:
        piece = mv[i : i + PIECE]
        rc = req.write(piece)
        if rc == 0:
            i += len(piece)
        elif rc == ERR_LIMIT:
            while not req.drained():
                await park(req)
        else:
            return rc
    return 0


class Server:
    """A linger server: routes whose handlers are coroutines taking a
    _linger.Req. (The microdot package is the friendlier way in.)"""

    def __init__(self, **config):
        loop()
        self.srv = _linger.Server(**config)

    def route(self, method, pattern, handler, stream_body=True):
        def begin(req):
            start(self._run(handler, req))

        self.srv.route(method, pattern, _linger.ROUTE_STREAM_BODY if stream_body else 0, begin)

    async def _run(self, handler, req):
        try:
            await handler(req)
        except Exception as e:
            import sys

            sys.print_exception(e)
        finally:
            if not req.answered():
                req.error(500, "Internal Server Error")

    def listen(self, host="0.0.0.0", port=0):
        return self.srv.listen(addr(host, port))

    async def shutdown(self, deadline_ms=10000):
        self.srv.shutdown(deadline_ms)
        while not self.srv.done():
            await park(self.srv)
        self.srv.free()


def addr(host, port):
    if ":" in host and not host.startswith("["):
        host = "[" + host + "]"
    return "%s:%d" % (host, port)


# --- client side -----------------------------------------------------------


async def head(call):
    """Wait for a fetch's answer head (or its failure)."""
    while not (call.head_done or call.done):
        await park(call)


async def body(call, n=-1):
    """Up to n bytes of an answer's body; b'' at its end; OSError when it
    failed (after the bytes that came)."""
    while True:
        b = call.take(n)
        if b is not None:
            return b
        await park(call)


async def body_all(call):
    call.collect()
    while not call.done:
        await park(call)
    b = call.take(-1)
    call.take(-1)  # b'' -- or the OSError the answer ended with
    return b
