"""Server-Sent Events from `linger serve` (GET /events) with a client
written here after the WHATWG event-stream parser (http.client underneath,
which reads the chunked answer): the stream's head, "stats" events once a
second with ids counting up, the retry field, and an EventSource's
reconnection with Last-Event-ID, which the server resumes after. A client
that leaves is counted out of the server's figures.
"""
import http.client
import json
import time


class EventStream:
    """One connection to /events, parsed as a browser's EventSource does."""

    def __init__(self, demo, last_event_id=None):
        self.conn = http.client.HTTPConnection(demo.host, demo.port, timeout=10)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/events", headers=headers)
        self.res = self.conn.getresponse()
        self.retry = None
        self.last_id = last_event_id

    def next_event(self):
        """(type, data, id) of the next event dispatched."""
        etype, data = "", []
        while True:
            line = self.res.readline()
            if not line:
                raise EOFError("the stream ended")
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    return etype or "message", "\n".join(data), self.last_id
                etype = ""
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                etype = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                self.last_id = value
            elif field == "retry" and value.isdigit():
                self.retry = int(value)

    def close(self):
        self.conn.close()


def test_head_and_events(demo):
    s = EventStream(demo)
    assert s.res.status == 200
    assert s.res.getheader("Content-Type") == "text/event-stream"
    assert s.res.getheader("Cache-Control") == "no-store"
    assert s.res.getheader("Transfer-Encoding") == "chunked"
    t0 = time.monotonic()
    events = [s.next_event() for _ in range(3)]
    took = time.monotonic() - t0
    assert s.retry == 1000
    assert [e[0] for e in events] == ["stats"] * 3
    assert [e[2] for e in events] == ["1", "2", "3"]
    first, last = json.loads(events[0][1]), json.loads(events[2][1])
    for key in ("uptime_ms", "requests", "connections", "active_connections", "event_streams",
                "websockets"):
        assert key in last
    assert last["event_streams"] >= 1
    assert last["uptime_ms"] - first["uptime_ms"] >= 1500  # once a second
    assert 1.5 < took < 5, took
    s.close()


def test_resumes_after_last_event_id(demo):
    s = EventStream(demo, last_event_id=41)
    assert [s.next_event()[2] for _ in range(2)] == ["42", "43"]
    s.close()


def test_reconnects_like_eventsource(demo):
    """Read, drop the connection, come back after `retry` with the last id
    seen: the ids go on without a gap."""
    ids = []
    last = None
    for _ in range(3):
        s = EventStream(demo, last_event_id=last)
        for _ in range(2):
            _, _, eid = s.next_event()
            ids.append(int(eid))
        last = s.last_id
        retry = s.retry
        s.close()
        time.sleep(retry / 1000 / 4)
    assert ids == list(range(1, 7))


def test_leaving_client_counted_out(demo):
    s = EventStream(demo)
    s.next_event()
    before = json.loads(_get(demo, "/api/stats"))["event_streams"]
    s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        now = json.loads(_get(demo, "/api/stats"))["event_streams"]
        if now < before:
            break
        time.sleep(0.1)
    assert now == before - 1


def _get(demo, path):
    c = http.client.HTTPConnection(demo.host, demo.port, timeout=10)
    c.request("GET", path)
    body = c.getresponse().read()
    c.close()
    return body
