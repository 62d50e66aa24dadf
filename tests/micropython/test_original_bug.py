"""The bug linger was born from, both ways, on MicroPython itself.

A Microdot application's upload route answers without reading the body
(apps/bug_app.py). micropython-lib's aiohttp client POSTs bodies of 0 B to
1 MiB (and one over the application's Request.max_content_length, which is
answered 413) and reads each answer to EOF, `await resp.read()`
(clients/post_sizes.py).

- On the real Microdot every body it did not read ends in a reset, and the
  client fails: the bug, reproduced (so this test can fail).
- On linger's microdot package, the same application unchanged: every
  answer whole, and no reset at all (in a private network namespace the
  kernel's counters show it).
- linger's aiohttp package, the same client script, against the real
  Microdot: every answer complete, though Microdot resets.
"""
from mpyharness import HERE, MpyServer, private_netns, run_json, tcp_counters

APP = HERE / "apps/bug_app.py"
CLIENT = HERE / "clients/post_sizes.py"
SIZES = [0, 1, 1000, 16383, 16384, 16385, 65535, 65536, 65537, 200000, 524288, 1048576,
         3000000]  # the last one over max_content_length: 413
ROUNDS = 2
MAX_BODY_LENGTH = 16384  # Microdot's default: what it reads before the handler


def exchange(server, client):
    srv = MpyServer(server, APP)
    try:
        # (counted from here: connecting before the server listened was
        # answered with resets)
        before = tcp_counters()
        res = run_json(client, CLIENT, srv.port, ",".join(map(str, SIZES)), ROUNDS)
        after = tcp_counters()
    finally:
        srv.stop()
    resets = {k: after[k] - before[k] for k in after}
    print(server, "server,", client, "client:", res, resets)
    assert res["sent"] == len(SIZES) * ROUNDS
    return res, resets


def test_real_aiohttp_against_real_microdot_fails():
    res, resets = exchange("microdot", "aiohttp")
    assert res["errors"], "the bug did not show: the test below proves nothing"
    for e in res["errors"]:
        assert int(e.split(":")[0]) > MAX_BODY_LENGTH, e  # only bodies it did not read
    if private_netns():
        assert resets["AbortOnClose"] + resets["AbortOnData"] > 0


def test_real_aiohttp_against_microdot_on_linger():
    res, resets = exchange("linger", "aiohttp")
    assert res["errors"] == []
    assert res["ok"] == res["sent"]
    if private_netns():
        assert resets == {"OutRsts": 0, "AbortOnClose": 0, "AbortOnData": 0}


def test_linger_aiohttp_against_real_microdot():
    res, resets = exchange("microdot", "linger")
    assert res["errors"] == []
    assert res["ok"] == res["sent"]
    if private_netns():
        # Microdot did reset: linger's client read every answer by its
        # framing all the same.
        assert resets["AbortOnClose"] + resets["AbortOnData"] > 0


def test_linger_aiohttp_against_microdot_on_linger():
    res, resets = exchange("linger", "linger")
    assert res["errors"] == []
    if private_netns():
        assert resets == {"OutRsts": 0, "AbortOnClose": 0, "AbortOnData": 0}
