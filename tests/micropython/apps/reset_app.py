# A soft reset, as far as the unix port can show one: linger's native
# server serves (no asyncio: the loop is turned by hand), then the Loop's
# finaliser runs -- what a soft reset's sweep (gc_sweep_all) runs on a
# device -- and a new server listens on the same port and serves again.
# test_soft_reset.py is the client; lines on stdout say where we are.
import sys
import time

import _linger

port = int(sys.argv[1])


def serve(lp, text, ms):
    def answer(req):
        req.send(200, text)

    srv = _linger.Server()
    srv.route("GET", "/", 0, answer)
    srv.listen("127.0.0.1:%d" % port)
    print("listening", text.decode())
    end = time.ticks_add(time.ticks_ms(), ms)
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        lp.run()
        time.sleep_ms(5)


lp = _linger.loop()
serve(lp, b"before", int(sys.argv[2]))
lp.__del__()  # the soft reset's sweep
print("reset", _linger.pinned(), _linger.mem()[0])
try:
    serve(_linger.loop(), b"after", int(sys.argv[2]))
except OSError as e:
    print("listen failed", e)
    sys.exit(1)
print("done")
