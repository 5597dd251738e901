"""`make bench`: load-test the production server on a generated district and report per page.

    python -m bench.run --scale small      20k members / 50k needs on SQLite (var/bench/)
    python -m bench.run --scale full       500k members / 1M needs on PostgreSQL (the default)

1. the database: reused when it already holds the district of that size, else created and
   filled by `manage.py generate_district`;
2. collectstatic into var/bench/static; gunicorn (gunicorn.conf.py) with config.settings.bench
   on a free port of 127.0.0.1;
3. each account logs in over HTTP; wrk (Debian's, installed when missing) drives each page
   from a separate process, after an unrecorded warm-up; /reports/ cold is timed with
   sequential single requests over periods nobody asked for yet;
4. the gunicorn workers' memory is sampled throughout; queries per request are counted in
   a separate Django process (bench/probe.py);
5. results.md and results.json go to var/bench/<YYYYmmdd-HHMMSS>/ and the table is printed.

DATABASE_URL, when set, names the database to use (it is never dropped; an empty one is
filled). Every page's throughput is also given as a ratio to a bare view that answers a
fixed short response through the same stack: the figure that stays put on a noisy machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.results import (
    ADMIN_PAGE,
    PUBLIC_PAGE,
    REPORT_COLD,
    REPORT_WARM,
    WORKER_MEMORY_MB,
    BenchError,
    Measurement,
    PageResult,
    Target,
    facts_table,
    measurement_from_timings,
    parse_wrk_output,
    results_table,
    with_ratios,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
WRK_DIR = ROOT / "bench" / "wrk"
PYTHON = sys.executable

# Who does what. "bench" are the accounts generate_district creates; "demo" lets the runner
# be tried on `manage.py load_demo`'s district (no street cadre; the superuser stands in
# for the district cadre, and the worker posts as well).
ACCOUNTS = {
    "bench": {
        "worker": "bench-worker",  # 50 needs
        "poster": "bench-poster",  # same workstation, no needs: the submissions
        "cadre": "bench-cadre",  # workstation cadre of bench-worker's workstation
        "street": "bench-street",
        "district": "bench-district",
        "reviewer": "bench-reviewer",  # the whole district's reports
    },
    "demo": {
        "worker": "worker",
        "poster": "worker",
        "cadre": "cadre",
        "district": "admin",
        "reviewer": "reviewer",
    },
}
PASSWORDS = {"bench": "bench12345", "demo": "demo12345"}
# The district cadre's changelist searches for this (wages: the commonest complaint).
ADMIN_SEARCH = "工资"


@dataclass(frozen=True)
class Scale:
    members: int
    needs: int
    generate_args: tuple[str, ...]
    duration_s: int


SCALES = {
    "small": Scale(20_000, 50_000, ("--small",), 10),
    "full": Scale(500_000, 1_000_000, ("--members", "500000", "--needs", "1000000"), 30),
}
FULL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/zhigong_bench"


@dataclass(frozen=True)
class Page:
    """One page to load: where, as whom, what it should answer and what it must achieve."""

    key: str
    label: str
    path: str
    account: str | None  # a role of ACCOUNTS, None for an anonymous visitor
    target: Target | None
    method: str = "GET"
    expected: int = 200


# --- logging ----------------------------------------------------------------------------

STARTED = time.monotonic()


def say(message: str) -> None:
    elapsed = int(time.monotonic() - STARTED)
    print(f"[bench {elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


# --- tools ------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package when it is missing (as .ci/run does)."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise BenchError("wrk is not installed and there is no apt-get: install wrk first.")
    say("installing wrk (Debian package)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq"]
        + ["--no-install-recommends", "wrk"],
        check=True,
    )
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get installed wrk but it is not on PATH.")
    return found


def manage(env: dict, *args: str, quiet: bool = False) -> None:
    completed = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    if completed.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed (exit {completed.returncode})")


def probe(env: dict, *args: str, payload: object = None) -> dict:
    """Run a bench/probe.py command in its own process and return its JSON answer."""
    completed = subprocess.run(
        [PYTHON, "-m", "bench.probe", *args],
        cwd=ROOT,
        env=env,
        input=json.dumps(payload) if payload is not None else None,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise BenchError(f"bench.probe {args[0]} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the database -----------------------------------------------------------------------


def district_matches(state: dict, scale: Scale, accounts: dict[str, str]) -> bool:
    """Whether the database holds a generated district of this size with its accounts."""
    return (
        state.get("migrated", False)
        and state["members"] == scale.members
        and state["needs"] == scale.needs
        and set(accounts.values()) <= set(state.get("users", []))
    )


def prepare_database(env: dict, scale: Scale, accounts: dict[str, str], owned: bool) -> str:
    """Reuse the district when it is there, else make the database and generate it.

    ``owned``: the database is the benchmark's own default one and may be recreated; one
    named by DATABASE_URL is filled only when it is empty.
    """
    url = env["DATABASE_URL"]
    state = probe(env, "state") if _database_exists(url) else {"reachable": False}
    if district_matches(state, scale, accounts):
        say(f"reusing the district ({state['members']:,} members, {state['needs']:,} needs)")
        manage(env, "migrate", "--noinput", quiet=True)
        return "reused"
    if state.get("members") or state.get("needs"):
        if not owned:
            raise BenchError(
                f"DATABASE_URL holds {state['members']:,} members and {state['needs']:,} needs,"
                f" not the {scale.members:,}/{scale.needs:,} district with its bench accounts."
                " Give an empty database, or unset DATABASE_URL to use the benchmark's own."
            )
        say("the benchmark database holds another district; recreating it")
        _drop_database(url)
    _create_database(url)
    say("migrating")
    manage(env, "migrate", "--noinput", quiet=True)
    say(f"generating the district ({scale.members:,} members, {scale.needs:,} needs)")
    started = time.monotonic()
    manage(env, "generate_district", *scale.generate_args, "--password", env["BENCH_PASSWORD"])
    say(f"generated in {time.monotonic() - started:.0f} s")
    return "generated"


def _sqlite_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        return None
    return Path(parts.path[1:] if parts.path.startswith("//") else parts.path)


def _pg_parts(url: str) -> tuple[dict, str]:
    parts = urlsplit(url)
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    return params, parts.path.lstrip("/")


def _database_exists(url: str) -> bool:
    path = _sqlite_path(url)
    if path is not None:
        return path.exists() and path.stat().st_size > 0
    import psycopg

    params, name = _pg_parts(url)
    with psycopg.connect(**params) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def _create_database(url: str) -> None:
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        return  # SQLite creates the file on the first connection
    if _database_exists(url):
        return
    import psycopg
    from psycopg import sql

    params, name = _pg_parts(url)
    say(f"creating the PostgreSQL database {name}")
    with psycopg.connect(**params) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(url: str) -> None:
    path = _sqlite_path(url)
    if path is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    params, name = _pg_parts(url)
    with psycopg.connect(**params) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("wb")
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            if http_request(port, "GET", "/__bench__/bare/", timeout=2).status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise BenchError(f"gunicorn did not answer within 60 s; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=35)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) of a process in kB; empty once it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {
        key: int(value.split()[0])
        for key, value in (line.split(":", 1) for line in text.splitlines() if ":" in line)
        if key in ("VmRSS", "VmHWM")
    }


class MemorySampler(threading.Thread):
    """Peak resident memory of every gunicorn worker, sampled every half second.

    A worker replaced after max_requests takes its VmHWM with it, so the peak is also
    sampled while it lives; ``workers_seen`` counts the replacements too.
    """

    def __init__(self, master_pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.interval = interval
        self.peaks_kb: dict[int, int] = {}
        self.page_peaks_kb: dict[str, int] = {}
        self.page: str | None = None
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def sample(self) -> None:
        for pid in children_of(self.master_pid):
            values = memory_kb(pid)
            peak = max(values.values(), default=0)
            with self._lock:
                self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), peak)
                if self.page:
                    rss = values.get("VmRSS", 0)
                    self.page_peaks_kb[self.page] = max(self.page_peaks_kb.get(self.page, 0), rss)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.sample()

    @property
    def peak_mb(self) -> float | None:
        return max(self.peaks_kb.values()) / 1024 if self.peaks_kb else None


# --- HTTP -------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    cookies: dict[str, str]
    body: bytes
    elapsed_ms: float


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 120,
) -> Response:
    """One request on a new connection, timed until the whole body has arrived."""
    headers = {"User-Agent": "zhigong-bench"}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        jar: dict[str, str] = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            parsed = SimpleCookie()
            parsed.load(header)
            jar.update({name: morsel.value for name, morsel in parsed.items()})
        return Response(response.status, jar, content, elapsed)
    finally:
        conn.close()


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def log_in(port: int, username: str, password: str) -> dict[str, str]:
    """The cookies of a session logged in through the portal's login form."""
    page = http_request(port, "GET", "/accounts/login/")
    match = CSRF_INPUT.search(page.body)
    if page.status != 200 or not match:
        raise BenchError(f"the login page answered {page.status} without a CSRF token")
    cookies = dict(page.cookies)
    form = {"csrfmiddlewaretoken": match.group(1).decode(), "username": username}
    form["password"] = password
    answer = http_request(port, "POST", "/accounts/login/", cookies=cookies, form=form)
    cookies.update(answer.cookies)
    if answer.status != 302 or "sessionid" not in answer.cookies:
        raise BenchError(
            f"logging in as {username} answered {answer.status}: is the account there, "
            "with the bench password?"
        )
    return cookies


# --- load -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    wrk: str
    port: int
    threads: int
    connections: int
    duration_s: int
    warmup_s: int


def run_wrk(
    load: Load, path: str, *, cookies: dict | None, script: str, args: list[str], seconds: int
) -> Measurement:
    command = [
        load.wrk,
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{seconds}s",
        # Slow requests are measured, not dropped: wrk's default gives up after 2 s.
        "--timeout",
        "30s",
        "-s",
        str(WRK_DIR / script),
    ]
    if cookies:
        command += ["-H", f"Cookie: {cookie_header(cookies)}"]
    command += [f"http://127.0.0.1:{load.port}{path}", "--", *args]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if completed.returncode != 0:
        raise BenchError(f"wrk failed on {path}:\n{completed.stderr or completed.stdout}")
    wait_until_idle(load.port)
    return parse_wrk_output(completed.stdout)


def load_page(load: Load, page: Page, cookies: dict | None, script_args: list[str]) -> Measurement:
    """An unrecorded warm-up, then the recorded run."""
    script = "post_need.lua" if page.method == "POST" else "report.lua"
    args = [str(page.expected), *script_args]
    if load.warmup_s:
        run_wrk(load, page.path, cookies=cookies, script=script, args=args, seconds=load.warmup_s)
    return run_wrk(
        load, page.path, cookies=cookies, script=script, args=args, seconds=load.duration_s
    )


def report_url(end: dt.date) -> str:
    """The whole district's report over the 365 days up to ``end``."""
    start = end - dt.timedelta(days=364)
    return "/reports/?" + urlencode(
        {"period": "custom", "start": start.isoformat(), "end": end.isoformat()}
    )


def cold_report_urls(today: dt.date, count: int, offset: int) -> list[str]:
    """``count`` year windows ending on successive days ``offset`` days back: periods
    whose figures no earlier request (of this run, or likely of another) computed."""
    return [report_url(today - dt.timedelta(days=offset + 1 + i)) for i in range(count)]


def prime_workers(
    port: int, cookies: dict, url: str, workers: int, rounds: int = 3
) -> list[tuple[int, int]]:
    """Prime the cache with ``url``: shared caches (Redis) and per-process ones (LocMemCache).

    A single request first, which fills a shared cache. Then rounds of one request per
    worker at once: a worker busy computing cannot accept a second, so a round of cold
    requests reaches every worker; later rounds catch a worker that a fast (already warm)
    one beat to a request. Returns each round's slowest time in ms and how many of its
    requests failed (a worker killed by gunicorn's timeout caches nothing).
    """

    def fetch(_) -> tuple[float, bool]:
        try:
            response = http_request(port, "GET", url, cookies=cookies)
        except (OSError, http.client.HTTPException):
            return 0.0, False
        return response.elapsed_ms, response.status == 200

    outcome = []
    for size in [1] + [workers] * rounds:
        with ThreadPoolExecutor(size) as pool:
            answers = list(pool.map(fetch, range(size)))
        outcome.append((round(max(ms for ms, _ in answers)), sum(not ok for _, ok in answers)))
        wait_until_idle(port)
    return outcome


def time_cold(port: int, cookies: dict, urls: list[str], budget_s: float) -> Measurement:
    """Sequential single requests, one per URL; after ``budget_s`` it stops at 5 or more."""
    timings, statuses = [], []
    started = time.monotonic()
    for url in urls:
        if len(timings) >= 5 and time.monotonic() - started > budget_s:
            break
        try:
            response = http_request(port, "GET", url, cookies=cookies)
        except (OSError, http.client.HTTPException):
            timings.append((time.monotonic() - started) * 1000 - sum(timings))
            statuses.append(0)
            continue
        timings.append(response.elapsed_ms)
        statuses.append(response.status)
    return measurement_from_timings(timings, statuses)


# Server-side TCP states of a connection the server has yet to finish with: SYN_RECV,
# ESTABLISHED (queued or being answered) and CLOSE_WAIT (the client gave up; wrk does at
# the end of a run, but a sync worker still computes the answer).
BUSY_TCP_STATES = {"03", "01", "08"}


def open_connections(port: int) -> int:
    """Connections to ``port`` the server has not closed yet, from /proc/net/tcp{,6}."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in BUSY_TCP_STATES:
                count += 1
    return count


def wait_until_idle(port: int, limit_s: float = 150) -> float:
    """Wait until the server has answered every request sent to it; returns the seconds.

    Requests wrk leaves in flight when it stops are still computed; a slow page would
    otherwise steal the workers from the next page's run.
    """
    started = time.monotonic()
    while open_connections(port) and time.monotonic() - started < limit_s:
        time.sleep(0.2)
    return time.monotonic() - started


# --- the run ----------------------------------------------------------------------------


def pages_for(facts: dict, warm_report: str) -> list[Page]:
    search = urlencode({"status": "all", "area__id__exact": facts["area_id"], "q": ADMIN_SEARCH})
    return [
        Page("bare", "bare view (reference)", "/__bench__/bare/", None, None),
        Page("home", "/ home", "/", None, PUBLIC_PAGE),
        Page("needs", "/needs/ (worker, 50 needs)", "/needs/", "worker", PUBLIC_PAGE),
        Page("need-detail", "/needs/<id>/", f"/needs/{facts['need_id']}/", "worker", PUBLIC_PAGE),
        Page("need-new", "/needs/new/ GET", "/needs/new/", "worker", PUBLIC_PAGE),
        Page(
            "need-post",
            "/needs/new/ POST (submit)",
            "/needs/new/",
            "poster",
            PUBLIC_PAGE,
            method="POST",
            expected=302,
        ),
        Page("projects", "/projects/", "/projects/", None, PUBLIC_PAGE),
        Page(
            "project-detail",
            "/projects/<id>/",
            f"/projects/{facts['project_id']}/",
            None,
            PUBLIC_PAGE,
        ),
        Page("reports-cold", "/reports/ year, cold", "/reports/", "reviewer", REPORT_COLD),
        Page("reports-warm", "/reports/ year, warm", warm_report, "reviewer", REPORT_WARM),
        Page(
            "admin-cadre",
            "admin needs, workstation cadre",
            "/admin/needs/need/",
            "cadre",
            ADMIN_PAGE,
        ),
        Page(
            "admin-district",
            "admin needs, district cadre, filter + search",
            f"/admin/needs/need/?{search}",
            "district",
            ADMIN_PAGE,
        ),
        Page("bare-end", "bare view, again at the end", "/__bench__/bare/", None, None),
    ]


def query_plan(
    pages: list[Page], accounts: dict, facts: dict, cold_url: str, prime_url: str
) -> list[dict]:
    plan = []
    for page in pages:
        entry = {
            "key": page.key,
            "path": page.path,
            "account": accounts[page.account] if page.account else None,
        }
        if page.key == "reports-cold":
            entry.update(path=cold_url, prime={"path": prime_url})
        if page.method == "POST":
            entry.update(method="POST", data=post_form(facts, "probe-1"))
            entry["prime"] = {
                "path": page.path,
                "method": "POST",
                "data": post_form(facts, "probe-0"),
            }
        plan.append(entry)
    return plan


def post_form(facts: dict, tag: str) -> dict:
    """The final step of /needs/new/ as bench/wrk/post_need.lua sends it."""
    form = {
        "step": "details",
        "title": f"性能测试诉求 {tag}",
        "description": "性能测试：单位拖欠两个月加班费，希望工会协助协调。",
        "kind": "consultation",
        "area": str(facts["area_id"]),
        "rights_type": "labour_economic",
        "urgency": "normal",
        "follow_up_consent": "on",
    }
    if facts.get("poster_workstation_id"):
        form["workstation"] = str(facts["poster_workstation_id"])
    return form


def machine_facts(env: dict, facts: dict, workers: int, load: Load, scale_name: str) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    wrk_version = subprocess.run([load.wrk, "-v"], capture_output=True, text=True).stdout
    counts = ", ".join(f"{name} {n:,}" for name, n in facts["counts"].items())
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "scale": scale_name,
        "CPU": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "database": facts["database"],
        "cache": facts["cache"],
        "data": counts,
        "server": f"gunicorn, {workers} sync workers, config.settings.bench",
        "load": (
            f"wrk {wrk_version.split()[1] if wrk_version else ''}: {load.threads} threads, "
            f"{load.connections} connections, {load.duration_s} s per page after a "
            f"{load.warmup_s} s warm-up"
        ),
        "commit": _commit(),
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def worker_count(env: dict) -> int:
    raw = env.get("WEB_CONCURRENCY", "").strip()
    return int(raw) if raw else (os.cpu_count() or 1) * 2 + 1


def bench_env(database_url: str, static_root: Path, password: str, workers: int | None) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # The benchmark's settings decide these; a developer's shell must not.
        if key not in ("DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(64),
        STATIC_ROOT=str(static_root),
        ALLOWED_HOSTS="127.0.0.1",
        BENCH_PASSWORD=password,
        PYTHONUNBUFFERED="1",
    )
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    # Several workers share one cache in production (README: REDIS_URL); so does the bench
    # when a Redis answers locally. Each run gets its own key prefix: nothing kept by an
    # earlier run counts as warm.
    if "REDIS_URL" not in env and _redis_answers():
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    if env.get("REDIS_URL"):
        env["CACHE_KEY_PREFIX"] = f"bench-{secrets.token_hex(4)}"
    return env


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument(
        "--accounts",
        choices=sorted(ACCOUNTS),
        default="bench",
        help="demo: run on an existing load_demo database (never generated)",
    )
    parser.add_argument("--duration", type=int, help="seconds per page (10 small, 30 full)")
    parser.add_argument("--warmup", type=int, default=2, help="unrecorded seconds before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--cold-requests", type=int, default=20)
    parser.add_argument(
        "--cold-budget",
        type=float,
        default=240,
        help="seconds of cold report requests after which it stops (at 5 or more)",
    )
    parser.add_argument("--only", help="comma-separated page keys (the bare view always runs)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    scale = SCALES[args.scale]
    accounts = ACCOUNTS[args.accounts]
    password = PASSWORDS[args.accounts]
    run_dir = BENCH_DIR / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)

    database_url = os.environ.get("DATABASE_URL", "")
    owned = not database_url
    if not database_url:
        database_url = (
            f"sqlite:///{BENCH_DIR / 'small.sqlite3'}"
            if args.scale == "small"
            else FULL_DATABASE_URL
        )
    env = bench_env(database_url, BENCH_DIR / "static", password, args.workers)
    wrk = ensure_wrk()

    if args.accounts == "demo":
        say("demo accounts: using the database as it is")
        database = "demo"
    else:
        database = prepare_database(env, scale, accounts, owned)
    probe(env, "cleanup", accounts["poster"])
    say("collecting static files")
    manage(env, "collectstatic", "--noinput", "-v0")
    facts = probe(env, "facts", payload={"accounts": accounts, "search": ADMIN_SEARCH})
    if facts["need_id"] is None or facts["project_id"] is None:
        raise BenchError("the district has no need of the worker or no public project")
    if args.accounts == "bench" and facts["worker_needs"] != 50:
        say(f"note: {accounts['worker']} has {facts['worker_needs']} needs, not 50")

    today = dt.date.today()
    # Two more periods than the server is asked for: the query count's priming and counted
    # requests, cold even when the cache is shared with the server (Redis).
    *cold_urls, probe_prime_url, probe_cold_url = cold_report_urls(
        today, args.cold_requests + 2, secrets.randbelow(300)
    )
    pages = pages_for(facts, report_url(today))
    if args.only:
        wanted = {"bare", "bare-end", *args.only.split(",")}
        pages = [page for page in pages if page.key in wanted]

    workers = worker_count(env)
    port = free_port()
    load = Load(
        wrk, port, args.threads, args.connections, args.duration or scale.duration_s, args.warmup
    )
    say(f"starting gunicorn on 127.0.0.1:{port}")
    server = start_server(env, port, run_dir / "server.log")
    sampler = MemorySampler(server.pid)
    sampler.start()
    rows: list[PageResult] = []
    post_check = {}
    try:
        sessions = {
            role: log_in(port, accounts[role], password)
            for role in sorted({page.account for page in pages if page.account})
        }
        for page in pages:
            cookies = sessions.get(page.account) if page.account else None
            sampler.page = page.key
            say(f"{page.key}: {page.path}")
            if page.key == "reports-cold":
                measurement = time_cold(port, cookies, cold_urls, args.cold_budget)
                note = f"{measurement.requests} sequential requests, distinct periods; p99 ≈ max"
            elif page.method == "POST":
                poster = accounts[page.account]
                script_args = [
                    str(page.expected),
                    cookies["csrftoken"],
                    str(facts["area_id"]),
                    str(facts["poster_workstation_id"] or "-"),
                ]
                # Titles differ between the runs too: a repeat within 60 s is not a new need.
                if load.warmup_s:
                    run_wrk(
                        load,
                        page.path,
                        cookies=cookies,
                        script="post_need.lua",
                        args=[*script_args, f"{run_dir.name}-w"],
                        seconds=load.warmup_s,
                    )
                before = probe(env, "count-needs", poster)["needs"]
                measurement = run_wrk(
                    load,
                    page.path,
                    cookies=cookies,
                    script="post_need.lua",
                    args=[*script_args, f"{run_dir.name}-r"],
                    seconds=load.duration_s,
                )
                created = probe(env, "count-needs", poster)["needs"] - before
                redirects = measurement.statuses.get("302", 0)
                post_check = {"created": created, "answered_302": redirects}
                note = f"{created:,} needs created, {redirects:,} answered 302"
                # A 302 without a new need is the duplicate check sending the worker to an
                # earlier one. More needs than 302s is fine: requests still in flight when
                # wrk stopped are answered to nobody but create their need all the same.
                if redirects > created:
                    measurement.errors["not created"] = redirects - created
            else:
                note = ""
                if page.key == "reports-warm":
                    rounds = prime_workers(port, cookies, page.path, workers)
                    note = f"primed by 1 request, then {len(rounds) - 1} rounds of {workers} "
                    note += "concurrent ones (slowest of each: " + ", ".join(
                        f"{ms:,} ms" + (f", {failed} failed" if failed else "")
                        for ms, failed in rounds
                    )
                    note += ")"
                measurement = load_page(load, page, cookies, [])
                if measurement.requests == 0:
                    note = "; ".join(
                        filter(None, [note, f"no request was answered within {load.duration_s} s"])
                    )
            rows.append(
                PageResult(
                    key=page.key,
                    label=page.label,
                    url=page.path if page.key != "reports-cold" else cold_urls[0],
                    account=accounts[page.account] if page.account else None,
                    measurement=measurement,
                    target=page.target,
                    note=note,
                )
            )
    finally:
        sampler.page = None
        sampler.stop()
        stop_server(server)

    say("counting queries per request")
    plan = query_plan(pages, accounts, facts, probe_cold_url, probe_prime_url)
    query_counts = probe(env, "queries", payload=plan)
    for row in rows:
        counted = query_counts.get(row.key, {})
        row.queries = counted.get("queries")
        if counted.get("error"):
            row.note = (row.note + "; " if row.note else "") + f"query count: {counted['error']}"
    deleted = probe(env, "cleanup", accounts["poster"])["deleted"]
    with_ratios(rows)

    memory_mb = sampler.peak_mb
    machine = machine_facts(env, facts, workers, load, args.scale)
    machine["district"] = database
    wall = time.monotonic() - STARTED
    machine["wall time"] = f"{wall:.0f} s"
    table = results_table(rows, memory_mb)
    notes = [f"- {row.label}: {row.note}" for row in rows if row.note]
    markdown = "\n\n".join(
        [
            f"# Benchmark {run_dir.name} ({args.scale})",
            table,
            "Ratio to bare: the page's requests/s over the bare view's (a fixed short response "
            "through the same server and middleware). Queries/request: counted in a separate "
            "process with django.test.Client after one priming request.",
            "\n".join(notes),
            facts_table(machine),
        ]
    )
    (run_dir / "results.md").write_text(markdown + "\n", encoding="utf-8")
    failed = [row.key for row in rows if row.passed is False]
    if memory_mb is not None and memory_mb >= WORKER_MEMORY_MB:
        failed.append("memory")
    (run_dir / "results.json").write_text(
        json.dumps(
            {
                "pages": [row.as_dict() for row in rows],
                "worker_memory": {
                    "peak_mb": round(memory_mb, 1) if memory_mb else None,
                    "target_mb": WORKER_MEMORY_MB,
                    "workers_seen": len(sampler.peaks_kb),
                    "peak_rss_mb_by_page": {
                        key: round(kb / 1024, 1) for key, kb in sampler.page_peaks_kb.items()
                    },
                },
                "submission": {**post_check, "deleted_after": deleted},
                "facts": machine,
                "ids": {k: facts[k] for k in ("need_id", "project_id", "area_id")},
                "failed": failed,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(markdown)
    say(f"results in {run_dir.relative_to(ROOT)}/ ({wall:.0f} s in all)")
    if failed:
        say(f"targets missed: {', '.join(failed)}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as error:
        say(f"error: {error}")
        sys.exit(1)
