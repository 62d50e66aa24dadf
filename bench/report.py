#!/usr/bin/python3
"""Writes docs/benchmarks.md and its plots from one `make bench` run.

  bench/report.py [--results DIR] [--out DIR] [--template FILE]

Reads what bench/run.sh left in DIR (default build-bench/results):
parse.tsv, loop.tsv, http.json, client.json, size.txt, size_peers.tsv,
run.txt. Writes OUT/benchmarks.md (default docs/) from the template
(default OUT/benchmarks.in.md), and OUT/img/*.png with gnuplot.

The template is markdown, written by hand; the generator replaces
  - a line that is only @@NAME@@ with a generated block (a table, a plot)
  - {{name}} anywhere with a generated figure
and leaves every other line as it is, so that the prose survives each run.
A block whose figures are missing (a benchmark failed, a peer is not
installed) becomes a short note saying so; nothing here fails for it.

Every table gives the median over the rounds and the range (min-max);
ratios are taken round by round, between figures measured in the same
round, and summarised the same way.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SERVER_LABEL = {"linger": "**linger**", "nginx": "nginx", "mhd": "libmicrohttpd",
                "civetweb": "civetweb", "linger-b": "linger (B)",
                "floor": "floor (C, closes at once)", "floor-linger": "floor (C, lingers)"}
MODE_LABEL = {"keepalive": "keep-alive", "close": "Connection: close",
              "pipelined": "pipelined"}
PARSER_KEY = {"linger": "linger", "linger LG_NO_SIMD": "linger LG_NO_SIMD",
              "picohttpparser": "picohttpparser", "llhttp": "llhttp",
              "http-parser": "http-parser"}
REQUEST_LABEL = {"browser": "browser GET", "api": "API POST"}


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rng(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


def n_int(x):
    return "-" if x is None else "{:,.0f}".format(x)


def n_sig(x):
    """Three significant figures, k/M for large numbers: for ranges."""
    if x is None:
        return "-"
    a = abs(x)
    if a >= 1e6:
        return "%.3gM" % (x / 1e6)
    if a >= 1e4:
        return "%.3gk" % (x / 1e3)
    if a >= 100:
        return "%.0f" % x
    if a >= 10:
        return "%.1f" % x
    return "%.2f" % x


def n_range(xs):
    lo, hi = rng(xs)
    if lo is None:
        return "-"
    return "%s–%s" % (n_sig(lo), n_sig(hi))


def n_ratio(xs, bold_if=None):
    m = med(xs)
    if m is None:
        return "-"
    s = "%.2fx" % m
    if bold_if and bold_if(m):
        s = "**%s**" % s
    if len([x for x in xs if x is not None]) > 1:
        lo, hi = rng(xs)
        s += " (%.2f–%.2f)" % (lo, hi)
    return s


def n_fix(x, digits=2):
    return "-" if x is None else ("%." + str(digits) + "f") % x


def paired(samples_a, samples_b, key, fn):
    """Per-round ratios fn(a, b) between two lists of samples with the same
    'round' (and whatever else key matches)."""
    by_round = {}
    for b in samples_b:
        by_round[key(b)] = b
    out = []
    for a in samples_a:
        b = by_round.get(key(a))
        if b is not None:
            try:
                out.append(fn(a, b))
            except ZeroDivisionError:
                pass
    return out


def table(header, rows, align=None):
    align = align or ["l"] + ["r"] * (len(header) - 1)
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def missing(what):
    return "*(%s: not measured in this run — see `build-bench/results/*.log`.)*" % what


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f]
    except OSError:
        return None


def run_cmd(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def pkg_version(pkg):
    v = run_cmd(["dpkg-query", "-W", "-f", "${Version}", pkg])
    return v if v and "no packages" not in v.lower() else None


# --------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------

class Plots:
    """Writes data files and gnuplot scripts, runs gnuplot; each plot that
    cannot be drawn is left out of the report."""

    def __init__(self, img_dir):
        self.img_dir = img_dir
        self.gnuplot = shutil.which("gnuplot")
        self.tmp = tempfile.mkdtemp(prefix="linger-report-")
        self.made = set()
        if self.gnuplot:
            os.makedirs(img_dir, exist_ok=True)

    def data(self, name, lines):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def draw(self, name, script, width=720, height=380):
        if not self.gnuplot:
            return False
        out = os.path.join(self.img_dir, name + ".png")
        head = ('set terminal pngcairo size %d,%d font "DejaVu Sans,10" noenhanced\n'
                'set output "%s"\n'
                'set border lc rgb "#555555"\n'
                'set grid ytics lc rgb "#dddddd" lt 1\n'
                'set key noautotitle\n'
                'set linetype 1 lc rgb "#d62728" lw 2 pt 7\n'
                'set linetype 2 lc rgb "#1f77b4" lw 2 pt 5\n'
                'set linetype 3 lc rgb "#2ca02c" lw 2 pt 9\n'
                'set linetype 4 lc rgb "#9467bd" lw 2 pt 11\n'
                'set linetype 5 lc rgb "#8c564b" lw 2 pt 13\n') % (width, height, out)
        path = os.path.join(self.tmp, name + ".gp")
        with open(path, "w") as f:
            f.write(head + script)
        p = subprocess.run([self.gnuplot, path], capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(out):
            print("report: gnuplot %s: %s" % (name, p.stderr.strip()[:500]), file=sys.stderr)
            return False
        self.made.add(name)
        return True

    def link(self, name, alt):
        if name not in self.made:
            return ""
        return "![%s](img/%s.png)\n\n" % (alt, name)

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def gp_str(s):
    return '"%s"' % s.replace('"', "'")


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------

class Report:
    def __init__(self, results, out_dir):
        self.results = results
        self.out_dir = out_dir
        self.blocks = {}
        self.values = {}
        self.summary = []  # (what, figure, target/verdict)
        self.plots = Plots(os.path.join(out_dir, "img"))
        self.http = load_json(os.path.join(results, "http.json")) or {}
        self.client = load_json(os.path.join(results, "client.json"))
        run = load_lines(os.path.join(results, "run.txt")) or []
        self.run = dict(kv.split("=", 1) for line in run for kv in line.split() if "=" in kv)

    # ---- machine ----
    def machine(self):
        meta = self.http.get("meta", {})
        cpu = meta.get("cpu") or run_cmd(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo"])
        cpu = re.sub(r"^model name\s*:\s*", "", cpu)
        ncpu = meta.get("ncpu") or os.cpu_count()
        versions = dict(meta.get("versions", {}))
        gcc = run_cmd([os.environ.get("CC", "cc"), "--version"]).splitlines()
        peers = []
        for label, v in (("nginx", versions.get("nginx") or pkg_version("nginx-light")),
                         ("libmicrohttpd", versions.get("mhd") or pkg_version("libmicrohttpd12")),
                         ("civetweb", versions.get("civetweb") or pkg_version("libcivetweb1")),
                         ("picohttpparser (libh2o)", pkg_version("libh2o0.13")),
                         ("llhttp", pkg_version("node-llhttp")),
                         ("http-parser", pkg_version("libhttp-parser2.9")),
                         ("curl", (self.client or {}).get("curl_version") or pkg_version("curl")),
                         ("wrk", versions.get("wrk") or pkg_version("wrk"))):
            if v:
                peers.append("%s %s" % (label, v))
        started = self.run.get("started", "")
        quick = self.run.get("quick") == "1"
        rows = [("date", (started[:10] or meta.get("date", "?")) +
                 (" (QUICK=1: a fast pass, fewer and shorter rounds — not for publishing)"
                  if quick else "")),
                ("linger", "commit %s%s" % (self.run.get("commit", "?"),
                                            " with uncommitted changes to src/, include/ or "
                                            "tools/" if self.run.get("dirty") == "1" else "")),
                ("CPU", "%s × %s (a shared, noisy machine)" % (cpu, ncpu)),
                ("kernel", "Linux %s" % meta.get("kernel", os.uname().release)),
                ("compiler", (gcc[0] if gcc else "?") +
                 ", `-O2 -g` (RelWithDebInfo, as Debian builds the peers)"),
                ("peers", ", ".join(peers) + " — Debian packages")]
        self.blocks["MACHINE"] = table(["", ""], rows, ["l", "l"])
        self.values["date"] = started[:10] or meta.get("date", "?")

    # ---- HTTP throughput ----
    def throughput(self):
        t = self.http.get("throughput")
        if not t or not t.get("samples"):
            for k in ("HTTP_PLOT", "HTTP_TABLE", "HTTP_RATIOS", "HTTP_TARGETS"):
                self.blocks[k] = missing("HTTP throughput") if k == "HTTP_TABLE" else ""
            return
        S = t["samples"]
        modes = t["modes"]
        servers = [s for s in t["servers"] if any(x["server"] == s for x in S)]
        self.values.update({"http.rounds": t["rounds"], "http.duration": t["duration_s"],
                            "http.conns": t["conns"], "http.depth": t["depth"],
                            "http.server_cpu": t["server_cpu"],
                            "http.client_cpu": t["client_cpu"]})

        def get(s, m):
            return [x for x in S if x["server"] == s and x["mode"] == m]
        rows = []
        for m in modes:
            first = True
            for s in servers:
                xs = get(s, m)
                if not xs:
                    continue
                ng = get("nginx", m)
                rr = paired(xs, ng, lambda x: x["round"], lambda a, b: a["rps"] / b["rps"])
                cr = paired(xs, ng, lambda x: x["round"], lambda a, b: a["us"] / b["us"])
                rows.append([MODE_LABEL.get(m, m) if first else "", SERVER_LABEL.get(s, s),
                             n_int(med(x["rps"] for x in xs)), n_range([x["rps"] for x in xs]),
                             n_fix(med(x["us"] for x in xs)),
                             "%.0f %%" % (100 * med(x["util"] for x in xs)),
                             sum(x["errors"] for x in xs),
                             n_ratio(rr) if ng else "-", n_ratio(cr) if ng else "-"])
                first = False
        self.blocks["HTTP_TABLE"] = table(
            ["mode", "server", "req/s", "min–max", "us/req", "cpu", "errors", "req/s ÷ nginx",
             "CPU ÷ nginx"], rows, ["l", "l"] + ["r"] * 7)

        # linger against each peer
        peers = [s for s in servers if s != "linger"]
        rows = []
        if "linger" in servers:
            for m in modes:
                row = [MODE_LABEL.get(m, m)]
                for p in peers:
                    rr = paired(get("linger", m), get(p, m), lambda x: x["round"],
                                lambda a, b: a["rps"] / b["rps"])
                    cr = paired(get("linger", m), get(p, m), lambda x: x["round"],
                                lambda a, b: a["us"] / b["us"])
                    row.append("%s / %s" % (n_ratio(rr).split(" ")[0], n_ratio(cr).split(" ")[0]))
                rows.append(row)
            self.blocks["HTTP_RATIOS"] = (
                "linger against each peer, same rounds (req/s ratio / CPU-per-request ratio; "
                "medians of the per-round ratios):\n\n" +
                table(["mode"] + ["÷ " + SERVER_LABEL.get(p, p) for p in peers], rows))
        else:
            self.blocks["HTTP_RATIOS"] = ""

        # targets
        rows = []
        verdicts = {}
        if "linger" in servers and "nginx" in servers:
            for m in modes:
                rr = paired(get("linger", m), get("nginx", m), lambda x: x["round"],
                            lambda a, b: a["rps"] / b["rps"])
                cr = paired(get("linger", m), get("nginx", m), lambda x: x["round"],
                            lambda a, b: a["us"] / b["us"])
                want = 1.25 if m == "pipelined" else 1.0
                r_ok = med(rr) is not None and med(rr) >= want
                c_ok = med(cr) is not None and med(cr) <= 0.8
                verdicts[m] = (med(rr), r_ok, med(cr), c_ok)
                rows.append([MODE_LABEL.get(m, m),
                             "≥ %.2fx" % want, "%.2fx — %s" % (med(rr), "**met**" if r_ok else
                                                               "not met"),
                             "≤ 0.80x", "%.2fx — %s" % (med(cr), "**met**" if c_ok else
                                                        "not met")])
            self.blocks["HTTP_TARGETS"] = table(
                ["mode", "req/s target", "req/s ÷ nginx", "CPU target", "CPU/req ÷ nginx"], rows,
                ["l", "r", "r", "r", "r"])
            for m, (r, rok, c, cok) in verdicts.items():
                self.summary.append(("HTTP %s vs nginx" % MODE_LABEL.get(m, m),
                                     "req/s %.2fx, CPU/req %.2fx" % (r, c),
                                     "req/s %s, CPU %s" % ("met" if rok else "not met",
                                                           "met" if cok else "not met")))
        else:
            self.blocks["HTTP_TARGETS"] = missing("linger or nginx")

        # plot: one panel per mode
        panels = []
        for i, m in enumerate(modes):
            lines = []
            for j, s in enumerate(servers):
                xs = [x["rps"] for x in get(s, m)]
                if xs:
                    lo, hi = rng(xs)
                    lines.append('%d "%s" %f %f %f %d' % (j, SERVER_LABEL.get(s, s).strip("*"),
                                                         med(xs) / 1e3, lo / 1e3, hi / 1e3, j + 1))
            path = self.plots.data("http_%s.dat" % m, lines)
            panels.append(
                'set title %s\nset xrange [-0.6:%f]\nset yrange [0:*]\n'
                'plot %s using 1:3:(0.7):6 with boxes fill solid 0.75 lc variable, '
                '"" using 1:4:(0):($5-$4) with vectors nohead lc rgb "#333333" lw 1.5, '
                '"" using 1:3:(sprintf("%%.0f", $3)) with labels offset 0,0.8 font ",8"\n'
                % (gp_str(MODE_LABEL.get(m, m)), len(servers) - 0.4, gp_str(path)))
        script = ('set multiplot layout 1,%d title "req/s (thousands), median and range of the '
                  'rounds; wrk -t1 -c%d, server and wrk on their own cores"\n'
                  'set style fill solid 0.75 border -1\nset boxwidth 0.7\n'
                  'set xtics rotate by -30 nomirror\nset ytics nomirror\nset format y "%%.0f"\n'
                  'set lmargin 7\n' % (len(modes), t["conns"]) +
                  "".join('set xtics (%s)\n' % ", ".join(
                      '"%s" %d' % (SERVER_LABEL.get(s, s).strip("*"), j)
                      for j, s in enumerate(servers)) + p for p in panels) +
                  "unset multiplot\n")
        self.plots.draw("http_modes", script, 900, 360)
        self.blocks["HTTP_PLOT"] = self.plots.link("http_modes", "req/s per server and mode")

    # ---- connections ----
    def conns(self):
        c = self.http.get("conns")
        if not c or not c.get("samples"):
            self.blocks["CONNS_TABLE"] = missing("req/s against connections")
            self.blocks["CONNS_PLOT"] = ""
            return
        S = c["samples"]
        levels = c["levels"]
        servers = [s for s in c["servers"] if any(x["server"] == s for x in S)]
        self.values.update({"conns.rounds": c["rounds"], "conns.duration": c["duration_s"]})

        def get(s, n):
            return [x for x in S if x["server"] == s and x["conns"] == n]
        rows = []
        for s in servers:
            rows.append([SERVER_LABEL.get(s, s)] +
                        ["%s<br><sub>%s</sub>" % (n_int(med(x["rps"] for x in get(s, n))),
                                                  n_range([x["rps"] for x in get(s, n)]))
                         for n in levels])
        for p in servers:
            if p == "linger" or "linger" not in servers:
                continue
            rows.append(["linger ÷ %s" % SERVER_LABEL.get(p, p)] +
                        [n_ratio(paired(get("linger", n), get(p, n), lambda x: x["round"],
                                        lambda a, b: a["rps"] / b["rps"])).split(" ")[0]
                         for n in levels])
        rows.append(["linger CPU us/req"] + [n_fix(med(x["us"] for x in get("linger", n)))
                                             for n in levels] if "linger" in servers else [])
        rows = [r for r in rows if r]
        self.blocks["CONNS_TABLE"] = table(["keep-alive req/s"] +
                                           ["%s conn%s" % ("{:,}".format(n), "" if n == 1 else "s")
                                            for n in levels], rows)
        lines_by = []
        for i, s in enumerate(servers):
            lines = []
            for n in levels:
                xs = [x["rps"] for x in get(s, n)]
                if xs:
                    lo, hi = rng(xs)
                    lines.append("%d %f %f %f" % (n, med(xs) / 1e3, lo / 1e3, hi / 1e3))
            lines_by.append((s, self.plots.data("conns_%s.dat" % s, lines)))
        script = ('set title "keep-alive req/s (thousands) against open connections; wrk -t1, '
                  'server and wrk on their own cores"\n'
                  'set logscale x\nset xtics (%s)\nset xrange [0.7:%f]\nset yrange [0:*]\n'
                  'set xlabel "connections"\nset key top left\n' % (
                      ", ".join('"%s" %d' % ("{:,}".format(n), n) for n in levels),
                      max(levels) * 1.4) +
                  "plot " + ", ".join(
                      '%s using 1:2:3:4 with yerrorlines lt %d title %s' % (
                          gp_str(p), i + 1, gp_str(SERVER_LABEL.get(s, s).strip("*")))
                      for i, (s, p) in enumerate(lines_by)) + "\n")
        self.plots.draw("http_conns", script)
        self.blocks["CONNS_PLOT"] = self.plots.link("http_conns", "req/s against connections")

    # ---- multi-core ----
    def multicore(self):
        mc = self.http.get("multicore")
        if not mc or not mc.get("samples"):
            self.blocks["MC_TABLE"] = missing("multi-core")
            self.blocks["MC_PLOT"] = ""
            return
        S = mc["samples"]
        servers = []
        for x in S:
            if x["server"] not in servers:
                servers.append(x["server"])
        self.values.update({"mc.rounds": mc["rounds"], "mc.duration": mc["duration_s"],
                            "mc.conns": mc["conns"], "mc.ncpu": mc["ncpu"]})

        def get(s, n, m):
            return [x for x in S if x["server"] == s and x["workers"] == n and x["mode"] == m]
        rows = []
        for m in mc["modes"]:
            first = True
            for n in mc["workers"]:
                for s in servers:
                    xs = get(s, n, m)
                    if not xs:
                        continue
                    one = get(s, 1, m)
                    scale = (med(x["rps"] for x in xs) / med(x["rps"] for x in one)
                             if one and n != 1 else None)
                    ng = get("nginx", n, m)
                    rr = paired(xs, ng, lambda x: x["round"], lambda a, b: a["rps"] / b["rps"])
                    cr = paired(xs, ng, lambda x: x["round"], lambda a, b: a["us"] / b["us"])
                    rows.append([MODE_LABEL.get(m, m) if first else "", n, SERVER_LABEL.get(s, s),
                                 n_int(med(x["rps"] for x in xs)), n_range([x["rps"] for x in xs]),
                                 "%.2fx" % scale if scale else "",
                                 n_fix(med(x["us"] for x in xs)),
                                 n_ratio(rr) if ng else "-", n_ratio(cr) if ng else "-"])
                    first = False
        self.blocks["MC_TABLE"] = table(
            ["mode", "loops / workers", "server", "req/s", "min–max", "× one worker", "us/req",
             "req/s ÷ nginx", "CPU ÷ nginx"], rows, ["l", "r", "l"] + ["r"] * 6)
        for m in mc["modes"]:
            for n in mc["workers"]:
                rr = paired(get("linger", n, m), get("nginx", n, m), lambda x: x["round"],
                            lambda a, b: a["rps"] / b["rps"])
                if rr and n > 1:
                    self.summary.append(("%d loops vs nginx %d workers, %s" % (
                        n, n, MODE_LABEL.get(m, m)), "req/s %.2fx" % med(rr), ""))
        # plot: one panel per mode; clusters per N, bars per server
        w = 0.8 / max(len(servers), 1)
        panels = []
        for m in mc["modes"]:
            lines = []
            for k, n in enumerate(mc["workers"]):
                row = [str(k)]
                for s in servers:
                    xs = [x["rps"] for x in get(s, n, m)]
                    lo, hi = rng(xs)
                    row.append("%f %f %f" % (med(xs) / 1e3, lo / 1e3, hi / 1e3) if xs
                               else "NaN NaN NaN")
                lines.append(" ".join(row))
            path = self.plots.data("mc_%s.dat" % m, lines)
            plot = []
            for i, s in enumerate(servers):
                off = (i - (len(servers) - 1) / 2) * w
                plot.append('%s using ($1+%f):%d:(%f) with boxes lt %d title %s' % (
                    gp_str(path), off, 2 + 3 * i, w, i + 1,
                    gp_str(SERVER_LABEL.get(s, s).strip("*"))))
                plot.append('"" using ($1+%f):%d:(0):($%d-$%d) with vectors nohead '
                            'lc rgb "#333333" lw 1.5 notitle' % (off, 3 + 3 * i, 4 + 3 * i,
                                                                 3 + 3 * i))
                plot.append('"" using ($1+%f):%d:(sprintf("%%.0f", $%d)) with labels '
                            'offset 0,0.7 font ",8" notitle' % (off, 2 + 3 * i, 2 + 3 * i))
            panels.append('set title %s\nset xtics (%s)\nset xrange [-0.6:%f]\n'
                          'set yrange [0:*]\nplot %s\n' % (
                              gp_str(MODE_LABEL.get(m, m)),
                              ", ".join('"%d loop%s / worker%s" %d' % (n, "" if n == 1 else "s",
                                                                      "" if n == 1 else "s", k)
                                        for k, n in enumerate(mc["workers"])),
                              len(mc["workers"]) - 0.4, ", ".join(plot)))
        script = ('set multiplot layout 1,%d title "req/s (thousands): linger --workers N against '
                  'nginx worker_processes N; N > 1 shares the cores with wrk"\n'
                  'set style fill solid 0.75 border -1\nset key top left\n'
                  'set offsets 0,0,graph 0.15,0\n' % len(panels) +
                  "".join(panels) + "unset multiplot\n")
        self.plots.draw("multicore", script, 860, 360)
        self.blocks["MC_PLOT"] = self.plots.link("multicore", "one loop per core against nginx")

    # ---- latency ----
    def latency(self):
        lt = self.http.get("latency")
        if not lt or not lt.get("samples"):
            self.blocks["LAT_TABLE"] = missing("latency under load")
            self.blocks["LAT_PLOT"] = ""
            return
        S = lt["samples"]
        servers = [s for s in lt["servers"] if any(x["server"] == s for x in S)]
        self.values.update({"lat.rounds": lt["rounds"], "lat.duration": lt["duration_s"],
                            "lat.conns": lt["conns"], "lat.warmup": lt["warmup_s"],
                            "lat.prio": lt.get("generator_priority", "normal")})

        def get(s, r):
            return [x for x in S if x["server"] == s and x["rate"] == r]
        rows = []
        for r in lt["rates"]:
            first = True
            for s in servers:
                xs = get(s, r)
                if not xs:
                    continue
                ng = get("nginx", r)
                p99r = paired(xs, ng, lambda x: x["round"], lambda a, b: a["p99_us"] / b["p99_us"])
                behind = sum(x["unsent"] for x in xs)
                rows.append(["{:,}".format(r) if first else "", SERVER_LABEL.get(s, s),
                             n_int(med(x["achieved"] for x in xs)) +
                             (" (%s behind)" % n_int(behind) if behind else ""),
                             n_fix(med(x["p50_us"] for x in xs), 0),
                             n_fix(med(x["p90_us"] for x in xs), 0),
                             "%s <sub>%s</sub>" % (n_fix(med(x["p99_us"] for x in xs), 0),
                                                    n_range([x["p99_us"] for x in xs])),
                             n_fix(med(x["p999_us"] for x in xs), 0),
                             n_fix(med(x["max_us"] for x in xs), 0),
                             sum(x["errors"] for x in xs),
                             n_ratio(p99r).split(" ")[0] if ng and s != "nginx" else "",
                             n_fix(med(x["send_lag_p99_us"] for x in xs), 0)])
                first = False
        self.blocks["LAT_TABLE"] = table(
            ["req/s offered", "server", "answered/s", "p50 us", "p90 us", "p99 us (range)",
             "p99.9 us", "max us", "errors", "p99 ÷ nginx", "generator lag p99 us"], rows,
            ["r", "l"] + ["r"] * 9)
        for r in lt["rates"]:
            a, b = get("linger", r), get("nginx", r)
            if a and b:
                self.summary.append(("latency at %s req/s" % "{:,}".format(r),
                                     "linger p50/p99 %s/%s us, nginx %s/%s us" % (
                                         n_fix(med(x["p50_us"] for x in a), 0),
                                         n_fix(med(x["p99_us"] for x in a), 0),
                                         n_fix(med(x["p50_us"] for x in b), 0),
                                         n_fix(med(x["p99_us"] for x in b), 0)), ""))
        plot = []
        for i, s in enumerate(servers):
            lines = []
            for r in lt["rates"]:
                xs = get(s, r)
                if xs:
                    lines.append("%f %f %f" % (r / 1e3, med(x["p50_us"] for x in xs),
                                               med(x["p99_us"] for x in xs)))
            p = self.plots.data("lat_%s.dat" % s, lines)
            name = SERVER_LABEL.get(s, s).strip("*")
            plot.append('%s using 1:2 with linespoints lt %d dt 2 title "%s p50"' % (gp_str(p), i + 1,
                                                                                 name))
            plot.append('%s using 1:3 with linespoints lt %d title "%s p99"' % (gp_str(p), i + 1,
                                                                              name))
        script = ('set title "latency (us, log scale) at a fixed offered rate; open loop, from the '
                  'intended send time"\nset logscale y\nset format y "%%.0f"\nset xlabel "offered load (thousand req/s)"\n'
                  'set key top left\nset xtics (%s)\nset xrange [0:%f]\n' % (
                      ", ".join('"%g" %f' % (r / 1e3, r / 1e3) for r in lt["rates"]),
                      max(lt["rates"]) / 1e3 * 1.1) + "plot " + ", ".join(plot) + "\n")
        self.plots.draw("latency", script)
        self.blocks["LAT_PLOT"] = self.plots.link("latency", "latency at fixed rates")

    # ---- memory ----
    def memory(self):
        mem = self.http.get("memory")
        if not mem or not mem.get("rows"):
            self.blocks["MEM_TABLE"] = missing("memory per connection")
            return
        rows_by = {}
        for r in mem["rows"]:
            rows_by.setdefault(r["server"], {})[r["state"]] = r
        rows = []
        for s, d in rows_by.items():
            rows.append([SERVER_LABEL.get(s, s),
                         "%s B" % n_int(d["idle"]["per_conn_b"]) if "idle" in d else "-",
                         "%s B" % n_int(d["active"]["per_conn_b"]) if "active" in d else "-"])
        rows.append(["civetweb", "left out (one thread per connection)", ""])
        self.blocks["MEM_TABLE"] = table(["server", "idle keep-alive", "request in progress"],
                                         rows)
        self.values["mem.n"] = "{:,}".format(mem["n"])
        li = rows_by.get("linger", {}).get("idle")
        if li:
            ok = li["per_conn_b"] <= 1024
            self.values["mem.verdict"] = "**met**" if ok else "**not met**"
            self.summary.append(("memory per idle connection", "%s B" % n_int(li["per_conn_b"]),
                                 "≤ 1 KiB: %s" % ("met" if ok else "not met")))
        else:
            self.values["mem.verdict"] = "not measured in this run"

    # ---- parse ----
    def parse(self):
        lines = load_lines(os.path.join(self.results, "parse.tsv"))
        if not lines:
            self.blocks["PARSE_TABLE"] = missing("head parsing")
            self.blocks["PARSE_PLOT"] = ""
            self.blocks["PARSE_STRICT"] = ""
            return
        times = {}   # (parser, request) -> {round: ns}
        sizes = {}
        rejects = {}  # case -> {parser: 0/1}
        parsers, requests, cases = [], [], []
        for l in lines:
            f = l.split("\t")
            if f[0] == "time" and len(f) == 6:
                p, r = f[1], f[2]
                if p not in parsers:
                    parsers.append(p)
                if r not in requests:
                    requests.append(r)
                sizes[r] = int(f[3])
                times.setdefault((p, r), {})[int(f[4])] = float(f[5])
            elif f[0] == "reject" and len(f) == 4:
                if f[2] not in cases:
                    cases.append(f[2])
                rejects.setdefault(f[2], {})[f[1]] = int(f[3])
        rounds = max(len(v) for v in times.values())
        self.values["parse.rounds"] = rounds
        peers = [p for p in parsers if not p.startswith("linger")]
        rows = []
        for r in requests:
            first = True
            for p in parsers:
                ns = times.get((p, r), {})
                m = med(ns.values())
                if m is None:
                    continue
                ratios = []
                for q in peers:
                    if q == p:
                        ratios.append("1.00x")
                        continue
                    qs = times.get((q, r), {})
                    rr = [qs[k] / ns[k] for k in ns if k in qs]
                    ratios.append(n_ratio(rr).split(" ")[0])
                lo, hi = rng(ns.values())
                rows.append(["%s, %d B" % (REQUEST_LABEL.get(r, r), sizes[r]) if first else "",
                             "**%s**" % p if p.startswith("linger") else p,
                             n_fix(m, 1), "%.1f–%.1f" % (lo, hi), n_int(1e9 / m),
                             n_int(sizes[r] * 1e3 / m)] + ratios)
                first = False
        self.blocks["PARSE_TABLE"] = table(
            ["request", "parser", "ns/req", "min–max", "req/s", "MB/s"] +
            ["speed ÷ %s" % q for q in peers], rows, ["l", "l"] + ["r"] * (4 + len(peers)))
        # The codec issue's targets: 1.5x Debian's (scalar) picohttpparser,
        # 5x http-parser.
        for q, want in (("picohttpparser", 1.5), ("http-parser", 5.0)):
            for r in requests:
                a, b = times.get(("linger", r), {}), times.get((q, r), {})
                rr = [b[k] / a[k] for k in a if k in b]
                if rr:
                    self.summary.append(("parse %s vs %s" % (REQUEST_LABEL.get(r, r), q),
                                         "%.2fx as fast" % med(rr), "≥ %.1fx: %s" % (
                                             want, "met" if med(rr) >= want else "not met")))
        # strictness
        if cases:
            short = {"linger": "linger", "linger LG_NO_SIMD": "scalar",
                     "picohttpparser": "pico", "llhttp": "llhttp", "http-parser": "http-parser"}
            rows = []
            for c in cases:
                rows.append([c] + ["R" if rejects[c].get(p) else "·" for p in parsers])
            rows.append(["**rejected**"] + ["**%d/%d**" % (sum(rejects[c].get(p, 0) for c in cases),
                                                          len(cases)) for p in parsers])
            self.blocks["PARSE_STRICT"] = table(["malformed request"] +
                                                [short.get(p, p) for p in parsers], rows,
                                                ["l"] + ["r"] * len(parsers))
        else:
            self.blocks["PARSE_STRICT"] = ""
        # plot: MB/s per parser, clusters per request
        lines = []
        for j, p in enumerate(parsers):
            row = [str(j), '"%s"' % p]
            for r in requests:
                ns = list(times.get((p, r), {}).values())
                if ns:
                    lo, hi = rng(ns)
                    row.append("%f %f %f" % (sizes[r] * 1e3 / med(ns), sizes[r] * 1e3 / hi,
                                             sizes[r] * 1e3 / lo))
                else:
                    row.append("NaN NaN NaN")
            lines.append(" ".join(row))
        path = self.plots.data("parse.dat", lines)
        w = 0.8 / max(len(requests), 1)
        plot = []
        for i, r in enumerate(requests):
            off = (i - (len(requests) - 1) / 2) * w
            plot.append('%s using ($1+%f):%d:(%f) with boxes lt %d title %s' % (
                gp_str(path), off, 3 + 3 * i, w, i + 1,
                gp_str("%s (%d B)" % (REQUEST_LABEL.get(r, r), sizes[r]))))
            plot.append('"" using ($1+%f):%d:(0):($%d-$%d) with vectors nohead '
                        'lc rgb "#333333" lw 1.5 notitle' % (off, 4 + 3 * i, 5 + 3 * i, 4 + 3 * i))
        script = ('set title "head parsing throughput, MB/s (one core, higher is better)"\n'
                  'set style fill solid 0.75 border -1\nset yrange [0:*]\n'
                  'set xtics (%s) nomirror\n'
                  'set xrange [-0.6:%f]\nset key top right\n' % (
                      ", ".join('"%s" %d' % (p.replace("linger LG_NO_SIMD", "linger, scalar"), j)
                                for j, p in enumerate(parsers)), len(parsers) - 0.4) +
                  "plot " + ", ".join(plot) + "\n")
        self.plots.draw("parse", script)
        self.blocks["PARSE_PLOT"] = self.plots.link("parse", "head parsing throughput")

    # ---- loop ----
    def loop(self):
        lines = load_lines(os.path.join(self.results, "loop.tsv"))
        if not lines:
            self.blocks["LOOP_TIMERS"] = missing("timers")
            self.blocks["LOOP_CONNS"] = ""
            return
        v = {}
        for l in lines:
            f = l.split("\t")
            if len(f) == 3:
                v.setdefault(f[0], []).append(float(f[2]))
        n_timers = int(v.get("timers", [0])[0])
        n_conns = int(v.get("conns", [0])[0])
        for k, name in (("sizeof_lg_stream", "loop.stream_bytes"),
                        ("sizeof_lg_timer", "loop.timer_bytes"),
                        ("timer_slot_bytes", "loop.slot_bytes")):
            if k in v:
                self.values[name] = "%d" % v[k][0]
        self.values.update({"loop.timers": "{:,}".format(n_timers),
                            "loop.conns": "{:,}".format(n_conns),
                            "loop.rounds": len(v.get("timer_start_ns", []))})
        self.blocks["LOOP_TIMERS"] = table(
            ["%s timers, random timeouts" % "{:,}".format(n_timers), "start", "move later", "stop",
             "fire"],
            [["ns per timer (median, min–max)"] +
             ["%s <sub>%s</sub>" % (n_fix(med(v.get("timer_%s_ns" % k, [])), 0),
                                     n_range(v.get("timer_%s_ns" % k, [])))
              for k in ("start", "move", "stop", "fire")]], ["l", "r", "r", "r", "r"])
        rows = []
        for b in ("epoll", "poll"):
            if "%s_rss_per_conn_b" % b not in v:
                rows.append([b, "(failed)", "", ""])
                continue
            rows.append([b, "%s B" % n_int(med(v["%s_rss_per_conn_b" % b])),
                         "%s us" % n_fix(med(v["%s_idle_iteration_us" % b])),
                         "%s us" % n_fix(med(v["%s_round_trip_us" % b]))])
        self.blocks["LOOP_CONNS"] = table(["backend", "RSS per connection",
                                           "iteration with nothing ready",
                                           "one round trip among the idle"], rows)

    # ---- client ----
    def client_part(self):
        c = self.client
        if not c or not (c.get("download") or c.get("rps")):
            self.blocks["CLIENT_TABLE"] = missing("client")
            return
        out = []
        dl = c.get("download", [])
        li = [x for x in dl if x["client"] == "linger"]
        cu = [x for x in dl if x["client"] == "curl"]
        rows = []
        for name, xs in (("**linger get**", li), ("curl", cu)):
            if xs:
                rows.append([name, n_fix(med(x["gb_s"] for x in xs)),
                             n_range([x["gb_s"] for x in xs]),
                             n_fix(med(x["cpu_s_per_gib"] for x in xs), 3)])
        if li and cu:
            tr = paired(li, cu, lambda x: x["round"], lambda a, b: a["gb_s"] / b["gb_s"])
            cr = paired(li, cu, lambda x: x["round"],
                        lambda a, b: a["cpu_s_per_gib"] / b["cpu_s_per_gib"])
            rows.append(["linger ÷ curl", n_ratio(tr), "", n_ratio(cr)])
            ok = med(tr) >= 1.0 and med(cr) <= 1.0
            self.summary.append(("client download vs curl",
                                 "throughput %.2fx, CPU/GiB %.2fx" % (med(tr), med(cr)),
                                 "≥ 1x at ≤ 1x CPU: %s" % ("met" if ok else "not met")))
        out.append("Download of %d MiB from nginx:\n\n" % c.get("size_mib", 0) +
                   table(["client", "GB/s", "min–max", "CPU s per GiB"], rows))
        rp = c.get("rps", [])
        li = [x for x in rp if x["client"] == "linger"]
        cu = [x for x in rp if x["client"] == "libcurl multi"]
        rows = []
        for name, xs in (("**linger**", li), ("libcurl multi", cu)):
            if xs:
                rows.append([name, n_int(med(x["rps"] for x in xs)), n_range([x["rps"] for x in xs]),
                             n_fix(med(x["cpu_us_per_req"] for x in xs))])
        if li and cu:
            rr = paired(li, cu, lambda x: x["round"], lambda a, b: a["rps"] / b["rps"])
            cr = paired(li, cu, lambda x: x["round"],
                        lambda a, b: a["cpu_us_per_req"] / b["cpu_us_per_req"])
            rows.append(["linger ÷ libcurl", n_ratio(rr), "", n_ratio(cr)])
            ok = med(rr) >= 1.5
            self.summary.append(("client req/s vs libcurl multi", "%.2fx" % med(rr),
                                 "≥ 1.5x: %s" % ("met" if ok else "not met")))
        out.append("%s small keep-alive GETs, %d in flight, on one loop:\n\n" % (
            "{:,}".format(c.get("requests", 0)), c.get("concurrency", 0)) +
            table(["client", "req/s", "min–max", "CPU us per request"], rows))
        self.values["client.rounds"] = c.get("rounds", "?")
        self.blocks["CLIENT_TABLE"] = "\n\n".join(out)

    # ---- size ----
    @staticmethod
    def parse_size(lines):
        """make size's output, read leniently (its format is another
        script's): the linked-program table (a header "configuration
        program CPU..." and rows "NAME PROGRAM t d b t d b ..."), the lines
        "CONFIG TARGET" rows of the RAM table, and "LABEL text N data N bss N" rows grouped
        under the unindented line before them."""
        linked = {"title": "", "cpus": [], "rows": [], "note": []}
        ram, layers = [], []
        row_re = re.compile(r"^\s+(.+?)\s+text\s+(\d+)\s+data\s+(\d+)\s+bss\s+(\d+)\s*$")
        # "CONFIG TARGET CONN REQ  S + B = T  S + B = T  FOUR / TIGHT (N at start-up)"
        ram_re = re.compile(r"^(\S+)\s+(\S+)\s+(\d+)\s+(\d+)"
                            r"\s+(\d+)\s+\+\s+(\d+)\s+=\s+(\d+)"
                            r"\s+(\d+)\s+\+\s+(\d+)\s+=\s+(\d+)"
                            r"\s+(\d+)\s*/\s*(\d+)\s+\((\d+) at start-up\)")
        mode, prev = None, ""
        for l in lines:
            h = re.match(r"^configuration\s+program\s+(.+)$", l)
            if h:
                linked["cpus"] = h.group(1).split()
                linked["title"] = prev.strip()
                mode = "linked"
                continue
            if mode == "linked":
                if not l.strip():
                    mode = None
                elif l.lstrip().startswith("(") or linked["note"] and not linked["note"][-1].endswith(")"):
                    linked["note"].append(l.strip())
                else:
                    f = l.split()
                    k = len(linked["cpus"])
                    if len(f) >= 2 + 3 * k and all(x.isdigit() for x in f[2:2 + 3 * k]):
                        linked["rows"].append((f[0], f[1], [tuple(int(x) for x in f[2 + 3 * i:5 + 3 * i])
                                                             for i in range(k)]))
                prev = l
                continue
            m = ram_re.match(l)
            if m:
                ram.append(m.groups())
            else:
                m = row_re.match(l)
                if m:
                    if not layers:
                        layers.append(["", []])
                    layers[-1][1].append((m.group(1).strip(), int(m.group(2)), int(m.group(3)),
                                          int(m.group(4))))
                elif l.strip() and not l[0].isspace():
                    layers.append([l.strip().rstrip(":"), []])
            if l.strip():
                prev = l
        layers = [x for x in layers if x[1]]
        return linked, ram, layers

    def size(self):
        lines = load_lines(os.path.join(self.results, "size.txt"))
        peers = load_lines(os.path.join(self.results, "size_peers.tsv")) or []
        for k in ("SIZE_TABLE", "SIZE_RAM", "SIZE_LAYERS", "SIZE_PEERS", "SIZE_PLOT", "SIZE_RAW"):
            self.blocks[k] = ""
        if lines:
            self.blocks["SIZE_RAW"] = ("<details><summary>make size, as it printed</summary>"
                                       "\n\n```\n" + "\n".join(lines) + "\n```\n\n</details>")
        linked, ram, layers = self.parse_size(lines or [])
        bars = []  # (label, KiB, colour: 1 linger, 2 measured peer, 3 quoted)
        m4 = None
        if linked["rows"]:
            cpus = linked["cpus"]
            m4 = next((i for i, c in enumerate(cpus) if "m4" in c.lower()), 0)
            rows = []
            for cfg, prog, triples in linked["rows"]:
                rows.append([cfg, prog] +
                            ["%s <sub>%.1f KiB</sub>" % (n_int(t + d), (t + d) / 1024)
                             for t, d, b in triples] +
                            [n_int(triples[m4][1] + triples[m4][2])])
                bars.append(("linger %s: %s" % (cfg, prog), (triples[m4][0] + triples[m4][1]) / 1024,
                             1))
            self.blocks["SIZE_TABLE"] = (
                ("%s. Flash is text + data, in bytes; static RAM is data + bss.\n\n" %
                 linked["title"].rstrip(":") if linked["title"] else "") +
                table(["configuration", "program"] + ["flash, %s" % c for c in cpus] +
                      ["static RAM, %s" % cpus[m4]], rows, ["l", "l"] + ["r"] * (len(cpus) + 1)) +
                ("\n\n" + " ".join(linked["note"]) if linked["note"] else ""))
            # The targets are for the smallest configurations: a
            # device leaves out what it does not use.
            flash_target = {("min-server", "server"): 10, ("min-both", "server+client"): 16}
            for cfg, prog, triples in linked["rows"]:
                if (cfg, prog) in (("full", "server"), ("full", "server+client"),
                                   ("min-server", "server"), ("min-both", "server+client")):
                    kib = (triples[m4][0] + triples[m4][1]) / 1024
                    want = flash_target.get((cfg, prog))
                    self.summary.append(("flash, %s -Os, %s %s" % (cpus[m4], cfg, prog),
                                         "%.1f KiB" % kib,
                                         "" if want is None else "< %d KiB: %s" % (
                                             want, "met" if kib < want else "not met")))
        elif lines and not layers:
            self.blocks["SIZE_TABLE"] = "```\n" + "\n".join(lines) + "\n```"
        elif not lines:
            self.blocks["SIZE_TABLE"] = missing("flash size (make size)")
        if ram:
            # The same figures on every 32-bit target: one row per configuration
            # unless a target differs.
            seen, rows = {}, []
            for r in ram:
                key = (r[0],) + tuple(r[2:])
                if key in seen:
                    seen[key][1] += ", " + r[1]
                    continue
                row = [r[0], r[1], r[2], r[3],
                       "%s + %s = **%s**" % (r[4], n_int(int(r[5])), n_int(int(r[6]))),
                       "%s + %s = **%s**" % (r[7], r[8], n_int(int(r[9]))),
                       n_int(int(r[10])), "**%s** (%s at start-up)" % (n_int(int(r[11])), n_int(int(r[12])))]
                seen[key] = row
                rows.append(row)
            self.blocks["SIZE_RAM"] = (
                "RAM, bytes, from `sizeof` on each target (`make size`; "
                "`ports/footprint/sizes.c` says what is counted). Per connection: its state "
                "(connection + one request) + its buffers, with the default buffer sizes and "
                "with the small profile; then a whole four-connection server in static "
                "memory (*four*: 2 request slots, 6 buffers of 512 bytes; *tight*: 1 request "
                "slot, 4 buffers of 384):\n\n" +
                table(["configuration", "targets", "connection", "request",
                       "per connection, default", "per connection, small",
                       "four connections", "four, tight"], rows,
                      ["l", "l"] + ["r"] * 6))
            for r in rows:
                if r[0] == "min-server":
                    conn = int(r[2])
                    self.summary.append(("RAM, state of a connection (min-server, 32-bit)",
                                         "%d bytes" % conn, "≤ 128 bytes: %s" % (
                                             "met" if conn <= 128 else "not met")))
                    tight = int(r[7].split(" ")[0].strip("*").replace(",", ""))
                    self.summary.append(("RAM, four-connection server in static memory (tight)",
                                         "%s bytes" % n_int(tight), "< 4 KiB: %s" % (
                                             "met" if tight < 4096 else "not met")))
        out = []
        for title, rows in layers:
            t_text = sum(r[1] for r in rows)
            t_data = sum(r[2] for r in rows)
            t_bss = sum(r[3] for r in rows)
            trows = [[r[0], n_int(r[1]), n_int(r[2]), n_int(r[3])] for r in rows]
            trows.append(["**total**", "**%s**" % n_int(t_text), n_int(t_data), n_int(t_bss)])
            out.append(("%s:\n\n" % title if title else "") +
                       table(["part", "text", "data", "bss"], trows))
            if not linked["rows"]:
                bars.append(("linger, sum of objects", (t_text + t_data) / 1024, 1))
                self.summary.append(("flash, %s" % (title or "sum of objects"),
                                     "%.1f KiB" % ((t_text + t_data) / 1024), ""))
        self.blocks["SIZE_LAYERS"] = "\n\n".join(out)
        for title, rows in layers[:1]:
            for r in rows:
                if r[0].startswith("codec: parse"):
                    self.summary.append(("flash, the codec (%s), Cortex-M4 -Os" % r[0],
                                         "%s bytes" % n_int(r[1] + r[2]),
                                         "< 4 KiB: %s" % ("met" if r[1] + r[2] < 4096 else "not met")))
        # the parsers
        prow = []
        for l in peers:
            f = l.split("\t")
            if len(f) != 6:
                continue
            target, name, text, data, bss, how = f[0], f[1], int(f[2]), int(f[3]), int(f[4]), f[5]
            prow.append([target, "**%s**" % name if name.startswith("linger") else name,
                         n_int(text), n_int(data), n_int(bss), "%.1f" % ((text + data) / 1024), how])
            if target == "cortex-m4" and "(linked)" in name:
                bars.append((name.replace("(linked)", "(parser only)"), (text + data) / 1024,
                             1 if name.startswith("linger") else 2))
        quoted = [("Mongoose, minimal server + client, with its own TCP/IP", 25),
                  ("Mongoose, minimal server + client, without TCP/IP", 19)]
        for name, kib in quoted:
            prow.append(["(quoted)", name, "", "", "", "≈ %d" % kib,
                         "quoted in linger's issue; not measured here"])
            bars.append(("Mongoose, %s TCP/IP (quoted)" % ("+" if "with its" in name else "no"),
                         kib, 3))
        self.blocks["SIZE_PEERS"] = table(["target", "what", "text", "data", "bss", "flash KiB",
                                           "source"], prow, ["l", "l", "r", "r", "r", "r", "l"])
        if bars:
            nb = len(bars)
            lines = ['%d "%s" %f %d' % (nb - 1 - i, n, v, c) for i, (n, v, c) in enumerate(bars)]
            path = self.plots.data("size.dat", lines)
            script = ('set title "flash (text + data), KiB, Cortex-M4 -Os, linked with '
                      '--gc-sections\\nred: linger; blue: a peer measured here; green: a peer '
                      'quoted, not measured"\n'
                      'set style fill solid 0.75 border -1\n'
                      'set grid xtics lc rgb "#dddddd" lt 1\nunset grid\nset grid xtics\n'
                      'set xrange [0:%f]\nset yrange [-0.6:%f]\nset lmargin 31\nset rmargin 3\n'
                      'unset key\n'
                      'plot %s using (0):1:(0):3:($1-0.35):($1+0.35):4:ytic(2) '
                      'with boxxyerror lc variable notitle, '
                      '"" using 3:1:(sprintf(" %%.1f", $3)) with labels left font ",8" notitle\n'
                      % (
                          max(b[1] for b in bars) * 1.15, nb - 0.4, gp_str(path)))
            self.plots.draw("flash", script, 720, 110 + 22 * nb)
            self.blocks["SIZE_PLOT"] = self.plots.link("flash", "flash per configuration and peers")

    def summary_block(self):
        if not self.summary:
            self.blocks["SUMMARY"] = "*(no figures in this run)*"
            return
        self.blocks["SUMMARY"] = table(["what", "this run", "target"], self.summary,
                                       ["l", "l", "l"])

    # ---- template ----
    def render(self, template):
        with open(template) as f:
            text = f.read()
        out = []
        for line in text.splitlines():
            m = re.fullmatch(r"@@([A-Z_]+)@@", line.strip())
            if m:
                block = self.blocks.get(m.group(1))
                if block is None:  # its part failed (said on stderr): leave it out
                    print("report: nothing for @@%s@@" % m.group(1), file=sys.stderr)
                    block = ""
                out.append(block.rstrip("\n"))
                continue
            out.append(re.sub(r"\{\{([\w.]+)\}\}",
                              lambda mm: str(self.values.get(mm.group(1), "?")), line))
        body = "\n".join(out)
        body = re.sub(r"\n{3,}", "\n\n", body)
        return body.rstrip() + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "build-bench", "results"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--template", default=None)
    a = ap.parse_args()
    template = a.template or os.path.join(a.out, "benchmarks.in.md")
    if not os.path.exists(template):
        template = os.path.join(ROOT, "docs", "benchmarks.in.md")
    r = Report(a.results, a.out)
    try:
        for part in (r.machine, r.throughput, r.conns, r.multicore, r.latency, r.memory,
                     r.parse, r.loop, r.client_part, r.size):
            try:
                part()
            except Exception as e:  # one broken part leaves the rest of the report
                print("report: %s: %r" % (part.__name__, e), file=sys.stderr)
        r.summary_block()
        text = r.render(template)
    finally:
        r.plots.cleanup()
    out = os.path.join(a.out, "benchmarks.md")
    with open(out, "w") as f:
        f.write(text)
    print("report: wrote %s and %d plots in %s" % (out, len(r.plots.made),
                                                    os.path.join(a.out, "img")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
