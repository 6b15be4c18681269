"""Load test with protocol-level clients: concurrent websocket sessions against `streamlit run app.py` servers.

benchmarks/bench_load.py drives chromium pages; on a 2-core machine the browsers eat the CPU the
server needs, so its latencies measure the browsers as much as the server. Here every student is
a plain websocket client in this one Python process that speaks Streamlit's own protocol
(protobuf BackMsg/ForwardMsg on ``/_stcore/stream``), so the server gets the cores.

What a session does, like a student in a lecture: it connects, loads the home page, then visits
every topic page (the same pages and sliders as bench_load.py, ``CONTROLS``) and there moves
``--sliders`` sliders (session ``s`` takes the page's sliders ``s``, ``s+1``, ... mod k) once per
round for ``--rounds`` rounds, one step each, as ArrowRight does. Before every interaction it
"reads the chart" for a think time drawn uniformly from ``--think MIN MAX`` seconds.

``--servers N`` (default 1) simulates the README's scale-out: N identical ``streamlit run app.py``
instances behind a load balancer with session affinity. One Streamlit process runs every script
under one GIL, so it tops out at about one core however many the machine has; N processes can
use N cores. A Streamlit session lives on the server that holds its websocket (widget states,
session_state), so a load balancer must be sticky: session ``s`` talks to server ``s mod N`` for its
whole life. Reported per server and overall (sums): errors, health at the end, CPU, RSS (peak and
at the end) and slider/all-interaction p50/p95; the latency tables are over all sessions. With
N = 1 the report is the single-server one.

The protocol, as the 1.67 frontend speaks it (streamlit/web/server/starlette/starlette_websocket.py,
runtime/app_session.py):

- connect to ``ws://127.0.0.1:<port>/_stcore/stream`` with subprotocol ``streamlit`` (no Origin
  header: allowed for non-browser clients; no XSRF token needed without auth cookies);
- every interaction is one binary ``BackMsg{rerun_script: ClientState}``: ``query_string`` (the
  URL the server last sent in ``page_info_changed``; empty after a page switch: a page link drops
  it), ``page_script_hash`` (from the ``navigation`` message of the first run) or ``page_name``
  ``""`` for home, ``widget_states`` (the sliders this session has moved on the page, as
  ``double_array_value``, the slider's wire type; ids from the ``new_element.slider`` deltas),
  ``context_info`` (timezone, locale, URL) and NO ``cached_message_hashes``, so the server never
  answers with ``ref_hash`` references and always sends full messages;
- the server answers with ForwardMsgs (new_session, navigation, page_info_changed, deltas, ...)
  and ends the run with ``script_finished`` (``FINISHED_EARLY_FOR_RERUN`` = the app called
  ``st.rerun()``; we keep waiting for the run that follows).

Measured and printed as Markdown tables:

- interactions done, errors (exception elements ``new_element.exception``, disconnects,
  per-interaction timeouts, compile errors, moves the server did not apply: must be 0), server
  health at the end;
- latency = sending the BackMsg -> receiving ``script_finished``: p50/p95/max overall and per
  page, page switches and slider moves separately (target: slider move p95 ≤ 2 s);
- server RSS (process + children, from /proc) every ``--sample`` seconds, as a table and its
  peak (target ≤ 1 GB per server; with N servers: their sum and each one); the server's CPU use
  from /proc/<pid>/stat (100 % = one core: a server near 100 % is GIL-bound, near 100 % × cores
  CPU-bound), the whole machine's CPU use (/proc/stat: is something else running?) and this
  client process's own CPU.

Bounded: loopback only, ``--timeout`` for the whole run (default 600 s), ``--step-timeout`` per
interaction (default 60 s); every server is started with tests/serve.py on its own free port
and stopped by its PID in a ``finally`` (also on errors and Ctrl-C).

Run: .venv/bin/python benchmarks/bench_load_ws.py [--sessions 20] [--rounds 3] [--think 3 8] [--servers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from _util import table
from bench_load import CONTROLS, cpu_s, latency_row, rss_mb, threads
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

from tests.serve import free_port, healthy, launch, stop, wait_healthy

STREAM = "/_stcore/stream"
SUBPROTOCOL = "streamlit"


@dataclass
class Stats:
    loads: list[float] = field(default_factory=list)  # seconds, first run of home
    switches: dict[str, list[float]] = field(default_factory=dict)  # page -> seconds
    moves: dict[str, list[float]] = field(default_factory=dict)  # "page: label" -> seconds
    move_page: dict[str, str] = field(default_factory=dict)  # "page: label" -> page
    errors: list[str] = field(default_factory=list)  # timeouts, disconnects, compile errors, no-op moves
    exceptions: list[str] = field(default_factory=list)  # "s/page after what: type: message"
    app_reruns: int = 0  # FINISHED_EARLY_FOR_RERUN (the app's own st.rerun())
    bytes_in: int = 0
    messages_in: int = 0
    done_at: list[float] = field(default_factory=list)  # monotonic time of every finished interaction
    sessions_done: int = 0

    def move_times(self) -> list[float]:
        return [x for xs in self.moves.values() for x in xs]

    def switch_times(self) -> list[float]:
        return [x for xs in self.switches.values() for x in xs]

    @classmethod
    def merged(cls, parts: list[Stats]) -> Stats:
        """All sessions of all servers together."""
        out = cls()
        for p in parts:
            for mine, theirs in ((out.switches, p.switches), (out.moves, p.moves)):
                for key, xs in theirs.items():
                    mine.setdefault(key, []).extend(xs)
            out.move_page.update(p.move_page)
            out.loads += p.loads
            out.errors += p.errors
            out.exceptions += p.exceptions
            out.done_at += p.done_at
            out.app_reruns += p.app_reruns
            out.bytes_in += p.bytes_in
            out.messages_in += p.messages_in
            out.sessions_done += p.sessions_done
        return out


class Failed(Exception):
    """An interaction failed (already recorded in Stats.errors)."""


# --- measuring the server ------------------------------------------------------------------------


# (time, RSS MB per server, CPU s per server, threads per server, machine (busy, total), client CPU s)
Sample = tuple[float, tuple[float, ...], tuple[float, ...], tuple[int, ...], tuple[float, float], float]


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


class Sampler(threading.Thread):
    """Every ``every`` seconds: per server (in ``pids`` order) RSS (MB), CPU s and threads, then
    machine CPU jiffies (busy, total) and this process's CPU s (the clients)."""

    def __init__(self, pids: list[int], every: float):
        super().__init__(daemon=True)
        self.pids, self.every = pids, every
        self.samples: list[Sample] = []
        self._halt = threading.Event()

    def sample(self) -> None:
        self.samples.append(
            (
                time.monotonic(),
                tuple(rss_mb(p) for p in self.pids),
                tuple(cpu_s(p) for p in self.pids),
                tuple(threads(p) for p in self.pids),
                machine_cpu(),
                time.process_time(),
            )
        )

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.every)

    def stop(self) -> None:
        if not self._halt.is_set():
            self._halt.set()
            self.join(5)
            self.sample()


# --- one student -----------------------------------------------------------------------------------


class Client:
    """One browser tab, reduced to its websocket: sends rerun requests, reads the runs."""

    def __init__(self, s: int, ws, base: str, stats: Stats, step_timeout: float):
        self.s, self.ws, self.base, self.stats, self.step_timeout = s, ws, base, stats, step_timeout
        self.query = ""  # the URL's query string, as the server last set it
        self.path = ""  # url_pathname of the current page
        self.page_hash = ""  # its page_script_hash (sent with every rerun, as the frontend does)
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.sliders: dict[str, object] = {}  # label -> Slider proto of the last run
        self.moved: dict[str, float] = {}  # widget id -> value this session set on the current page
        self.view_link = ""  # the sidebar's "link to this view" (st.code) of the last run

    def where(self) -> str:
        return f"s{self.s}/{self.path or 'home'}"

    async def rerun(self, what: str, page_name: str = "") -> float:
        """Send one rerun_script of the current page, read until its script_finished; returns
        the seconds it took. Without a page hash (first load) the server resolves ``page_name``."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.page_name = page_name
        cs.widget_states.SetInParent()
        for wid, value in self.moved.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            w.double_array_value.data.append(value)
        ctx = cs.context_info
        ctx.timezone, ctx.timezone_offset, ctx.locale = "UTC", 0, "en-US"
        ctx.url = f"{self.base}/{self.path}"  # st.context.url: without the query string
        ctx.is_embedded, ctx.color_scheme = False, "light"
        # cached_message_hashes stays empty: the server sends full messages, never ref_hash
        sliders: dict[str, object] = {}
        view_link = ""
        t = time.monotonic()
        try:
            async with asyncio.timeout(self.step_timeout):
                await self.ws.send(msg.SerializeToString())
                while True:
                    data = await self.ws.recv()
                    self.stats.bytes_in += len(data)
                    self.stats.messages_in += 1
                    fwd = ForwardMsg()
                    fwd.ParseFromString(data)
                    kind = fwd.WhichOneof("type")
                    if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                        el = fwd.delta.new_element
                        etype = el.WhichOneof("type")
                        if etype == "slider":
                            sliders[el.slider.label] = el.slider
                        elif etype == "code" and el.code.code_text.startswith(self.base):
                            view_link = el.code.code_text
                        elif etype == "exception":
                            text = f"{el.exception.type}: {el.exception.message}".replace("\n", " ")[:300]
                            self.stats.exceptions.append(f"{self.where()} after {what}: {text}")
                    elif kind == "navigation":
                        self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
                    elif kind == "page_info_changed":
                        self.query = fwd.page_info_changed.query_string
                    elif kind == "ref_hash":  # cannot happen: we announce no cached messages
                        self.stats.errors.append(f"{self.where()} {what}: unexpected ref_hash message")
                    elif kind == "script_finished":
                        status = fwd.script_finished
                        if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                            self.stats.app_reruns += 1
                            continue  # the app called st.rerun(): its next run follows
                        if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                            self.stats.errors.append(f"{self.where()} {what}: script finished with a compile error")
                        break
        except TimeoutError:
            self.stats.errors.append(f"{self.where()} {what}: no script_finished after {self.step_timeout:g} s")
            raise Failed from None
        except Exception as e:  # websockets.ConnectionClosed and friends: a disconnect
            self.stats.errors.append(f"{self.where()} {what}: {type(e).__name__}: {str(e)[:200]}")
            raise Failed from None
        dt = time.monotonic() - t
        self.sliders, self.view_link = sliders, view_link
        self.stats.done_at.append(time.monotonic())
        return dt

    async def load_home(self) -> None:
        self.path, self.page_hash = "", ""
        self.stats.loads.append(await self.rerun("load of home", page_name=""))
        missing = [p for p in CONTROLS if p not in self.pages]
        if missing:
            self.stats.errors.append(f"{self.where()}: pages missing from navigation: {missing}")
            raise Failed
        self.page_hash = self.pages[""]

    async def switch(self, path: str) -> None:
        """Follow the sidebar link: the new page's hash, no query string, no widget states."""
        self.path, self.page_hash, self.query, self.moved = path, self.pages[path], "", {}
        dt = await self.rerun("page switch")
        self.stats.switches.setdefault(path, []).append(dt)

    async def move(self, label: str, r: int) -> None:
        """One step of the slider (ArrowRight; ArrowLeft at its max) and the rerun it triggers."""
        sl = self.sliders.get(label)
        what = f"move {label!r} round {r}"
        if sl is None:
            self.stats.errors.append(f"{self.where()} {what}: no slider labelled {label!r} on the page")
            raise Failed
        current = self.moved.get(sl.id)
        if current is None:
            current = (sl.value if sl.set_value else sl.default)[0]
        new = current + sl.step if current + sl.step <= sl.max + 1e-9 else current - sl.step
        new = round(new, 10)
        self.moved[sl.id] = new
        # bind="query-params": the frontend writes the moved value into the URL (a default leaves it)
        key = sl.query_param_key
        if key:
            query = parse_qs(self.query, keep_blank_values=True)
            query.pop(key, None)
            if not math.isclose(new, sl.default[0], abs_tol=1e-12):
                query[key] = [str(int(new)) if new == int(new) else repr(new)]
            self.query = urlencode(query, doseq=True)
        dt = await self.rerun(what)
        name = f"{self.path}: {label}"
        self.stats.moves.setdefault(name, []).append(dt)
        self.stats.move_page[name] = self.path
        # the page's "link to this view" lists every control's value as the script saw it
        shown = parse_qs(urlsplit(self.view_link).query).get(key or "")
        try:
            applied = bool(shown) and math.isclose(float(shown[0]), new, rel_tol=1e-9, abs_tol=1e-9)
        except ValueError:
            applied = False
        if not applied:
            self.stats.errors.append(f"{self.where()} {what}: not applied (sent {new}, view link has {key}={shown})")


async def student(
    s: int, base: str, args: argparse.Namespace, stats: Stats, rng: random.Random, start_delay: float
) -> None:
    await asyncio.sleep(start_delay)  # students arrive over a few seconds, not in one instant

    async def think() -> None:
        await asyncio.sleep(rng.uniform(*args.think))

    url = base.replace("http://", "ws://", 1) + STREAM
    client = None
    try:
        async with connect(
            url, subprotocols=[SUBPROTOCOL], max_size=None, open_timeout=args.step_timeout, compression=None
        ) as ws:
            client = Client(s, ws, base, stats, args.step_timeout)
            await client.load_home()
            for path, labels in CONTROLS.items():
                if path:
                    await think()
                    await client.switch(path)
                chosen = [labels[(s + j) % len(labels)] for j in range(min(args.sliders, len(labels)))]
                for r in range(args.rounds):
                    for label in chosen:
                        await think()
                        await client.move(label, r)
            stats.sessions_done += 1
    except Failed:
        pass
    except Exception as e:  # connect refused, handshake failed, closed while closing, ...
        where = client.where() if client else f"s{s}/connect"
        stats.errors.append(f"{where}: {type(e).__name__}: {str(e)[:200]}")


async def hall(bases: list[str], args: argparse.Namespace, parts: list[Stats]) -> None:
    """All students at once; student ``s`` talks to server ``s mod N`` only (sticky sessions)."""
    n = len(bases)
    rngs = [random.Random(args.seed * 1000 + s) for s in range(args.sessions)]
    await asyncio.gather(
        *(
            student(s, bases[s % n], args, parts[s % n], rngs[s], args.ramp * s / args.sessions)
            for s in range(args.sessions)
        )
    )


# --- report ------------------------------------------------------------------------------------------


def pct(xs: list[float], q: float) -> str:
    if not xs:
        return "–"
    xs = sorted(xs)
    return f"{xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]:.2f}"


def page_rows(stats: Stats) -> list[dict]:
    rows = []
    for path in CONTROLS:
        sw = [] if not path else stats.switches.get(path, [])
        mv = [x for name, xs in stats.moves.items() if stats.move_page[name] == path for x in xs]
        if not path:
            sw = stats.loads  # home: its first load
        rows.append(
            {
                "page": path or "home (first load)",
                "switches": len(sw),
                "switch p50 (s)": pct(sw, 0.5),
                "switch p95 (s)": pct(sw, 0.95),
                "switch max (s)": f"{max(sw):.2f}" if sw else "–",
                "moves": len(mv),
                "move p50 (s)": pct(mv, 0.5),
                "move p95 (s)": pct(mv, 0.95),
                "move max (s)": f"{max(mv):.2f}" if mv else "–",
            }
        )
    return rows


def curve_rows(samples: list[Sample], t0: float, done_at: list[float], rows: int = 30) -> list[dict]:
    """About ``rows`` evenly spaced samples; CPU % are averages since the previous row. RSS, CPU
    and threads are sums over the servers; with several, their shares follow ("a / b")."""
    if not samples:
        return []
    stride = max(1, math.ceil(len(samples) / rows))
    picked = list(range(0, len(samples), stride))
    if picked[-1] != len(samples) - 1:
        picked.append(len(samples) - 1)
    ncpu = os.cpu_count() or 1
    several = len(samples[0][1]) > 1
    out, prev = [], None
    for i in picked:
        t, mbs, cpus, nthreads, (busy, total), mine = samples[i]
        row = {"t (s)": f"{t - t0:.0f}", "RSS (MB)": f"{sum(mbs):.0f}"}
        if several:
            row["RSS per server (MB)"] = " / ".join(f"{mb:.0f}" for mb in mbs)
        row["interactions done"] = sum(1 for d in done_at if d <= t)
        row["server CPU %"] = ""
        if several:
            row["CPU % per server"] = ""
        row[f"machine CPU % (of {ncpu} cores)"] = ""
        row["client CPU %"] = ""
        row["server threads"] = sum(nthreads)
        row["curve"] = "#" * round(sum(mbs) / 25)
        if prev is not None:
            dt = max(t - prev[0], 1e-9)
            per_server = [100 * (c - pc) / dt for c, pc in zip(cpus, prev[2], strict=True)]
            row["server CPU %"] = f"{sum(per_server):.0f}"
            if several:
                row["CPU % per server"] = " / ".join(f"{x:.0f}" for x in per_server)
            dtotal = max(total - prev[4][1], 1)
            row[f"machine CPU % (of {ncpu} cores)"] = f"{100 * ncpu * (busy - prev[4][0]) / dtotal:.0f}"
            row["client CPU %"] = f"{100 * (mine - prev[5]) / dt:.0f}"
        out.append(row)
        prev = samples[i]
    return out


def cpu_use(samples: list[Sample], t0: float, t_end: float, i: int | None = None) -> tuple[float, float, float]:
    """CPU seconds, average % and peak % (between two samples while the sessions ran) of server
    ``i``, or of all servers together when ``i`` is None. 100 % = one core."""

    def cpu(sample: Sample) -> float:
        return sum(sample[2]) if i is None else sample[2][i]

    wall = samples[-1][0] - samples[0][0]
    used = cpu(samples[-1]) - cpu(samples[0])
    window = [s for s in samples if t0 <= s[0] <= t_end] or samples
    peak = max((100 * (cpu(b) - cpu(a)) / max(b[0] - a[0], 1e-9) for a, b in itertools.pairwise(window)), default=0)
    return used, 100 * used / max(wall, 1e-9), peak


def cpu_text(used: float, avg: float, peak: float) -> str:
    return f"{used:.0f} s / {avg:.0f} % / {peak:.0f} %"


def server_rows(
    samples: list[Sample],
    t0: float,
    t_end: float,
    bases: list[str],
    parts: list[Stats],
    ok_end: list[bool],
    args: argparse.Namespace,
) -> list[dict]:
    """One row per server: its sessions, errors, health, CPU, RSS and latencies."""
    rows = []
    for i, (base, st, ok) in enumerate(zip(bases, parts, ok_end, strict=True)):
        moves, others = st.move_times(), st.switch_times() + st.loads
        used, avg, peak = cpu_use(samples, t0, t_end, i)
        rows.append(
            {
                "server": f"{i} ({base})",
                "sessions": len(range(i, args.sessions, len(bases))),
                "finished": st.sessions_done,
                "interactions": len(moves) + len(others),
                "errors": len(st.errors),
                "exceptions": len(st.exceptions),
                "healthy at the end": "yes" if ok else "NO",
                "CPU: s / average / peak": cpu_text(used, avg, peak),
                "CPU s per interaction": f"{used / max(1, len(moves) + len(others)):.2f}",
                "RSS peak / end (MB, ≤ 1024)": f"{max(s[1][i] for s in samples):.0f} / {samples[-1][1][i]:.0f}",
                "slider move p50 / p95 (s)": f"{pct(moves, 0.5)} / {pct(moves, 0.95)}",
                "all interactions p50 / p95 (s)": f"{pct(moves + others, 0.5)} / {pct(moves + others, 0.95)}",
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="moves of each chosen slider per topic page and session")
    ap.add_argument("--sliders", type=int, default=2, choices=(1, 2, 3), help="sliders a session moves per page")
    ap.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(3.0, 8.0),
        metavar=("MIN", "MAX"),
        help="think time before every interaction, uniform in [MIN, MAX] seconds",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the think times")
    ap.add_argument(
        "--servers",
        type=int,
        default=1,
        help="identical servers; session s talks to server s mod N only (a load balancer with sticky sessions)",
    )
    ap.add_argument("--port", type=int, default=0, help="0: free loopback ports; else servers on PORT, PORT+1, ...")
    ap.add_argument("--timeout", type=float, default=600, help="hard limit for the whole run, seconds")
    ap.add_argument("--step-timeout", type=float, default=60, help="limit for one interaction, seconds")
    ap.add_argument("--ramp", type=float, default=5, help="students arrive over this many seconds")
    ap.add_argument("--sample", type=float, default=2, help="seconds between RSS/CPU samples")
    ap.add_argument("--tail", type=float, default=10, help="seconds of sampling after the last session")
    args = ap.parse_args()
    if args.think[0] < 0 or args.think[1] < args.think[0]:
        ap.error("--think MIN MAX needs 0 ≤ MIN ≤ MAX")
    if args.servers < 1:
        ap.error("--servers needs N ≥ 1")

    n = args.servers
    ports = [args.port + i for i in range(n)] if args.port else []
    while len(ports) < n:
        if (port := free_port()) not in ports:
            ports.append(port)
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [Path(os.environ.get("TMPDIR", "/tmp")) / f"optlab_bench_load_ws_{port}.log" for port in ports]
    parts, sampler, procs, boots = [Stats() for _ in ports], None, [], []
    t_start = time.monotonic()
    timed_out = False
    try:
        for port, log in zip(ports, logs, strict=True):
            with log.open("w") as out:  # the server keeps its own copy of the file descriptor
                procs.append(launch(port, stdout=out))
        for proc, base in zip(procs, bases, strict=True):  # they boot in parallel
            wait_healthy(proc, base)
            boots.append(time.monotonic() - t_start)
        sampler = Sampler([proc.pid for proc in procs], args.sample)
        sampler.start()
        t0 = time.monotonic()
        budget = max(10.0, args.timeout - (t0 - t_start) - args.tail - 15)
        try:
            asyncio.run(asyncio.wait_for(hall(bases, args, parts), budget))
        except TimeoutError:
            timed_out = True
        t_end = time.monotonic()
        time.sleep(args.tail)  # idle: does memory settle?
        ok_end = [healthy(base) and proc.poll() is None for base, proc in zip(bases, procs, strict=True)]
        sampler.stop()
    finally:
        if sampler is not None:
            sampler.stop()
        for proc in procs:
            stop(proc)

    stats = Stats.merged(parts)
    if timed_out:
        stats.errors.append(f"whole run exceeded its {budget:.0f} s budget")
    samples = sampler.samples
    moves, switches = stats.move_times(), stats.switch_times()
    per_page_moves = {p: min(args.sliders, len(v)) for p, v in CONTROLS.items() if v}
    expected_moves = args.sessions * args.rounds * sum(per_page_moves.values())
    interactions = len(moves) + len(switches) + len(stats.loads)
    busy = samples[-1][4][0] - samples[0][4][0]
    total = max(1, samples[-1][4][1] - samples[0][4][1])
    ncpu = os.cpu_count() or 1
    client_cpu = samples[-1][5] - samples[0][5]
    cpu_used, cpu_avg, cpu_peak = cpu_use(samples, t0, t_end)
    rss_peak = max(sum(s[1]) for s in samples)
    load1, load5, _ = os.getloadavg()
    one = n == 1
    who = "server" if one else f"{n} servers together,"  # N = 1: the labels of the single-server report

    where = f"server on {bases[0]}" if one else f"{n} servers on {', '.join(bases)} (session s on server s mod {n})"
    print(
        f"## Load test (websocket clients): {args.sessions} sessions × {args.rounds} rounds × "
        f"{args.sliders} slider(s)/page, {where}\n"
    )
    print(
        f"Machine: {ncpu} cores, load average {load1:.2f} (1 min) / {load5:.2f} (5 min) at the end; "
        f"{'server' if one else 'servers'} healthy after {' / '.join(f'{b:.1f}' for b in boots)} s; "
        f"sessions ran {t_end - t0:.0f} s; think time uniform "
        f"{args.think[0]:g}–{args.think[1]:g} s before every interaction (seed {args.seed}); students "
        f"arrive over {args.ramp:g} s; per-interaction timeout {args.step_timeout:g} s. Clients: "
        f"{args.sessions} websocket sessions in this one Python process (no browser). "
        f"Server log{'' if one else 's'}: {', '.join(map(str, logs))}\n"
    )
    healthy_end = "yes" if all(ok_end) else "NO" + ("" if one else f" (server {ok_end.index(False)})")
    summary = [
        ("sessions that finished their walk", stats.sessions_done, args.sessions),
        ("home loads (first run)", len(stats.loads), args.sessions),
        ("page switches", len(switches), args.sessions * (len(CONTROLS) - 1)),
        ("slider moves", len(moves), expected_moves),
        ("errors (timeouts, disconnects, compile errors, unapplied moves)", len(stats.errors), 0),
        ("exception elements received", len(stats.exceptions), 0),
        (f"{'server' if one else f'all {n} servers'} healthy at the end (/_stcore/health)", healthy_end, "yes"),
        ("app-initiated reruns (st.rerun: FINISHED_EARLY_FOR_RERUN)", stats.app_reruns, "–"),
        (
            f"{who} CPU: seconds / average / peak (100 % = one core)",
            cpu_text(cpu_used, cpu_avg, cpu_peak),
            "–",
        ),
        (
            f"{who} CPU seconds per interaction (load-independent cost)",
            f"{cpu_used / max(1, interactions):.2f} ({cpu_used:.0f} s / {interactions})",
            "–",
        ),
        (
            f"machine CPU average (all processes, 100 % = one core, {ncpu} cores)",
            f"{100 * ncpu * busy / total:.0f} %",
            "–",
        ),
        ("client CPU (this process, all sessions)", f"{client_cpu:.1f} s", "–"),
        ("received from the server", f"{stats.messages_in} messages, {stats.bytes_in / 2**20:.1f} MB", "–"),
        (f"{who} RSS peak / at the end (MB)", f"{rss_peak:.0f} / {sum(samples[-1][1]):.0f}", "≤ 1024" if one else "–"),
    ]
    summary = [{"what": w, "done": d, "expected": e} for w, d, e in summary]
    print(table(summary) + "\n")
    if not one:
        print(f"Per server (session s on server s mod {n}; CPU 100 % = one core)\n")
        print(table(server_rows(samples, t0, t_end, bases, parts, ok_end, args)) + "\n")
    print("Latency: BackMsg sent → script_finished received (target: slider move p95 ≤ 2 s)\n")
    rows = [
        latency_row("slider move", moves),
        latency_row("page switch", switches),
        latency_row("first load of home", stats.loads),
        latency_row("all interactions", moves + switches + stats.loads),
    ]
    print(table(rows) + "\n")
    print("Latency per page\n")
    print(table(page_rows(stats)) + "\n")
    print("Slider moves per page and control\n")
    print(table([latency_row(name, xs) for name, xs in sorted(stats.moves.items())]) + "\n")
    rss_what = "server process + children" if one else f"sum of the {n} servers, each process + children"
    print(
        f"Server RSS and CPU over time (RSS: {rss_what}, sampled every {args.sample:g} s; "
        "CPU %: average since the previous row, 100 % = one core; curve: one # per 25 MB)\n"
    )
    print(table(curve_rows(samples, t0, stats.done_at)) + "\n")
    for title, items in (("Errors", stats.errors), ("Exceptions", stats.exceptions)):
        if items:
            print(f"{title} (first 20 of {len(items)}):")
            for item in items[:20]:
                print(f"- {item}")
            print()
    failed = stats.errors or stats.exceptions or not all(ok_end) or timed_out
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
