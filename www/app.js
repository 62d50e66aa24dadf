// The demo page's live parts (see tools/cmd_serve.c):
//  - the table: Server-Sent Events from /events, one "stats" event a
//    second (no polling). If the stream drops, EventSource reconnects by
//    itself and says where it got to (Last-Event-ID), and the server goes
//    on counting from there.
//  - the echo box: a WebSocket to /ws, which sends each message back.
//  - the upload box: the form goes to POST /upload (multipart/form-data,
//    streamed; files are hashed, never held) and its JSON answer is shown.
'use strict';

(function () {
  const el = (id) => document.getElementById(id);

  // "3 s", "2 min 05 s", "1 h 02 min"
  function formatUptime(ms) {
    const s = Math.floor(ms / 1000);
    const pad = (n) => String(n).padStart(2, '0');
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + pad(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + pad(Math.floor(s / 60) % 60) + ' min';
  }

  function show(stats, id) {
    el('uptime').textContent = formatUptime(stats.uptime_ms);
    el('uptime').dataset.ms = String(stats.uptime_ms);
    el('requests').textContent = String(stats.requests);
    el('connections').textContent = String(stats.connections);
    el('active').textContent = String(stats.active_connections);
    el('streams').textContent = String(stats.event_streams);
    el('websockets').textContent = String(stats.websockets);
    el('stats').dataset.eventId = id;
    // the last ids seen (tests/interop/browser checks they run on after a
    // reconnection)
    const ids = (el('stats').dataset.ids || '').split(',').filter(Boolean);
    ids.push(id);
    el('stats').dataset.ids = ids.slice(-50).join(',');
    el('stats').dataset.updates = String(Number(el('stats').dataset.updates || 0) + 1);
    el('status').textContent = 'live';
    el('status').className = 'live';
  }

  function offline(why) {
    el('status').textContent = 'offline (' + why + '), reconnecting';
    el('status').className = 'offline';
  }

  // --- live figures over Server-Sent Events ---
  const events = new EventSource('/events');
  events.addEventListener('stats', (e) => {
    try {
      show(JSON.parse(e.data), e.lastEventId);
    } catch (err) {
      offline('bad data');
    }
  });
  events.onerror = () => offline('stream lost');

  // --- the echo box over a WebSocket ---
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let ws = null;

  function say(text, cls) {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    el('echoes').appendChild(li);
  }

  function connect() {
    ws = new WebSocket(proto + '//' + location.host + '/ws');
    ws.onopen = () => {
      el('echo-status').textContent = 'connected';
      el('echo-status').className = 'live';
      // One message at once, so the page shows the echo working.
      send(el('echo-text').value);
    };
    ws.onmessage = (e) => say(String(e.data), 'echoed');
    ws.onclose = (e) => {
      el('echo-status').textContent = 'closed (' + e.code + '), reconnecting';
      el('echo-status').className = 'offline';
      setTimeout(connect, 2000);
    };
  }

  function send(text) {
    if (!ws || ws.readyState !== WebSocket.OPEN || !text) return;
    ws.send(text);
    say(text, 'sent');
  }

  el('echo').addEventListener('submit', (e) => {
    e.preventDefault();
    send(el('echo-text').value);
    el('echo-text').value = '';
  });

  connect();

  // --- the upload box: POST /upload, the JSON answer shown as it came ---
  el('upload').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = el('upload-result');
    out.textContent = 'uploading\u2026';
    try {
      const r = await fetch('/upload', { method: 'POST', body: new FormData(e.target) });
      const text = await r.text();
      out.textContent = r.ok ? JSON.stringify(JSON.parse(text), null, 2) : r.status + ' ' + text;
      out.className = r.ok ? 'done' : 'failed';
    } catch (err) {
      out.textContent = 'failed: ' + err;
      out.className = 'failed';
    }
  });
})();
