"""examples/ota.c: a 16 MiB firmware image streamed through a multipart
form into its sink, checked (size, SHA-256) as it goes; and the same with
the sink stalled for two seconds at the image's half: the upload pauses
(the client is held back by TCP's window, the server reads nothing more
and holds no more than its receive buffer) and goes on afterwards. Only a
valid image is committed; a wrong one is refused whole (422), and one
longer than promised is stopped as soon as it passes the promise (413),
without a reset."""
import hashlib
import http.client
import json
import os
import threading
import time

IMAGE = 16 << 20
BOUNDARY = "----otaBoundary7MA4YWxkTrZu0gW"


def _image(seed):
    block = hashlib.sha256(seed).digest() * 2048  # 64 KiB
    return block * (IMAGE // len(block))


class Upload:
    """POST /ota, the body sent by a thread that records how far it got."""

    def __init__(self, port, image, query):
        self.sent = 0
        self.progress = []  # (time, bytes sent)
        self.pre = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"firmware\"; "
                    f"filename=\"fw.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        self.post = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.putrequest("POST", "/ota?" + query)
        self.conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        self.conn.putheader("Content-Length", str(len(self.pre) + len(image) + len(self.post)))
        self.conn.endheaders()
        self.image = image

    def send(self):
        self.conn.send(self.pre)
        view = memoryview(self.image)
        for i in range(0, len(view), 65536):
            self.conn.sock.sendall(view[i:i + 65536])
            self.sent += 65536
            self.progress.append((time.monotonic(), self.sent))
        self.conn.send(self.post)

    def answer(self):
        r = self.conn.getresponse()
        return r.status, json.loads(r.read())


def _query(image, **extra):
    q = f"size={len(image)}&sha256={hashlib.sha256(image).hexdigest()}"
    return q + "".join(f"&{k}={v}" for k, v in extra.items())


def test_16_mib(ota):
    image = _image(b"a")
    up = Upload(ota.port, image, _query(image, busy_ms=0))
    before = ota.rss_kib()
    up.send()
    status, got = up.answer()
    assert (status, got["valid"], got["size"]) == (200, True, IMAGE), got
    assert (ota.dir / "firmware.bin").read_bytes() == image
    grew = ota.rss_kib("VmHWM") - before
    assert os.environ.get("LINGER_SANITIZED") or grew < 2048, f"the server's memory grew by {grew} KiB for a 16 MiB image"


def test_stalled_sink(ota):
    image = _image(b"b")
    up = Upload(ota.port, image, _query(image, stall_ms=2000))
    t0 = time.monotonic()
    sender = threading.Thread(target=up.send)
    sender.start()
    # Half the image goes in, then the sink stalls: the sender must stop
    # well short of the end (the kernel's buffers, a few MiB at most). Wait
    # for the sender to stand still for half a second rather than a fixed
    # time: a sanitized build on a loaded machine takes longer to reach
    # the half.
    last, since, deadline = -1, time.monotonic(), time.monotonic() + 15
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if up.sent != last:
            last, since = up.sent, time.monotonic()
        elif up.sent and time.monotonic() - since >= 0.5:
            break
    mid = up.sent
    assert IMAGE // 2 <= mid + (4 << 20) and mid < IMAGE - (2 << 20), \
        f"{mid} bytes sent during the stall"
    sender.join(60)
    status, got = up.answer()
    took = time.monotonic() - t0
    assert (status, got["valid"]) == (200, True), got
    assert took >= 2.0, f"the stall did not hold the upload back ({took:.2f} s)"
    assert (ota.dir / "firmware.bin").read_bytes() == image


def test_wrong_image_not_committed(ota):
    image = _image(b"c")
    q = f"size={len(image)}&sha256={'0' * 64}"
    up = Upload(ota.port, image, q)
    up.send()
    status, got = up.answer()
    assert (status, got["valid"], got["reason"]) == (422, False, "sha256 differs"), got
    assert not os.path.exists(ota.dir / "firmware.bin")
    assert not os.path.exists(ota.dir / "firmware.bin.part")


def test_longer_than_promised(ota):
    image = _image(b"d")
    promised = image[:len(image) - 32768]  # the body limit leaves 64 KiB of slack
    up = Upload(ota.port, image, _query(promised))
    up.send()  # the server drains the rest: no reset
    status, got = up.answer()
    assert (status, got["valid"]) == (413, False), got
    assert got["size"] <= len(promised)
    assert not os.path.exists(ota.dir / "firmware.bin")
