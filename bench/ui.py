"""Web app benchmark, in the system's Chromium against ``headwater serve`` (processor on).

    .venv/bin/python -m bench.ui [--loads 10] [--rate 1000] [--seconds 5]
    .venv/bin/python -m bench.ui --only members [--members 100000] [--scroll-seconds 10]

Measures what a person meets, each beside a baseline taken in the same run:

- **first screen**: from navigation to the overview, signed in, until its numbers are shown
  (the "Events in" tiles, data included), ``--loads`` times on a fresh page (cold: nothing
  cached) and again warm; baseline: the API's own documentation page (``/api/docs``,
  Swagger UI), navigation until its title is shown. Target: under 1 s.
- **initial JavaScript**: the scripts the sign-in screen loads, gzipped (as a server sends
  them compressed); baseline: the 300 KB budget.
- **live debugger**: ``--rate`` events/s for ``--seconds`` into the watched source (batches
  of 50 every 50 ms, from a thread), while a marker event is sent every 250 ms: the time from
  each marker's acknowledgement to its row in the page (the page notes when it appears), and
  the page's frame times meanwhile (``requestAnimationFrame``); baseline: the same markers
  with no other load.
- **members table**: an audience of ``--members`` people (100,000) scrolled in its Members
  tab, frame times and dropped frames while its pages load and once they are; baseline: an
  audience of 1,000 in the same run (see ``bench.ui_members``).

``--only`` runs one figure (``first``, ``js``, ``live``, ``members``); all by default.
Prints each figure and its ratio to its baseline.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from bench import ui_members
from bench.ingest import ADMIN_TOKEN, fresh_database, serve_on
from bench.screenshots import _chromium

EMAIL = "bench@example.com"
PASSWORD = "bench password only"
BUDGET_KB = 300
WEB = Path(__file__).parents[1] / "src" / "headwater" / "web" / "dist"

_WATCH = """
() => {
  window.__seen = {};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('[aria-label="Events, newest first"] button')) {
      const text = row.textContent || '';
      const match = text.match(/Marker (\\w+)/);
      if (match && !(match[1] in window.__seen)) window.__seen[match[1]] = Date.now();
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__frames = [];
  let last = performance.now();
  const tick = (now) => {
    window.__frames.push(now - last); last = now; requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


def _seed(base: str) -> str:
    """The bench's person (an instance owner) and a source with a day of events; its write key."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
        admin.post(
            "/api/v1/users", json={"email": EMAIL, "password": PASSWORD, "instance_owner": True}
        ).raise_for_status()
        source = admin.post("/api/v1/workspaces/default/sources", json={"name": "bench"}).json()
    batch = [{"type": "track", "userId": f"u{i}", "event": "Seeded"} for i in range(200)]
    httpx.post(
        f"{base}/v1/batch", auth=(source["write_key"], ""), json={"batch": batch}
    ).raise_for_status()
    return f"{source['write_key']}|{source['id']}"


def _signed_in(browser: Browser, base: str) -> Page:
    page = browser.new_page(base_url=base)
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/overview")
    return page


def _first_screen(browser: Browser, base: str, loads: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"cold": [], "warm": [], "docs": []}
    signed = _signed_in(browser, base)
    state = signed.context.storage_state()
    signed.context.close()
    for _ in range(loads):
        context = browser.new_context(base_url=base, storage_state=state)
        page = context.new_page()
        for kind in ("cold", "warm"):
            started = time.perf_counter()
            page.goto("/w/default/overview")
            page.locator(".tile-label", has_text="Stored").wait_for()
            found[kind].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        page.goto("/api/docs")
        page.locator(".swagger-ui .title").first.wait_for()
        found["docs"].append((time.perf_counter() - started) * 1000)
        context.close()
    return found


def _initial_js(browser: Browser, base: str) -> float:
    """Kilobytes of JavaScript the sign-in screen loads, gzipped."""
    page = browser.new_page(base_url=base)
    scripts: list[str] = []
    page.on(
        "response",
        lambda response: (
            scripts.append(response.url)
            if response.url.endswith(".js") and "/assets/" in response.url
            else None
        ),
    )
    page.goto("/login")
    page.get_by_role("button", name="Sign in").wait_for()
    page.close()
    total = 0
    for url in set(scripts):
        total += len(gzip.compress((WEB / "assets" / url.rsplit("/", 1)[1]).read_bytes(), 9))
    return total / 1024


class _Load(threading.Thread):
    """``rate`` events/s as batches of 50 every 50 ms (``rate`` 1000), until stopped."""

    def __init__(self, base: str, write_key: str, rate: int) -> None:
        super().__init__(daemon=True)
        self.base, self.write_key, self.rate = base, write_key, rate
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        per_batch = max(1, self.rate // 20)
        with httpx.Client(base_url=self.base, auth=(self.write_key, "")) as client:
            next_at = time.perf_counter()
            while not self.stop.is_set():
                batch = [
                    {"type": "track", "userId": f"load{i % 97}", "event": "Load"}
                    for i in range(per_batch)
                ]
                client.post("/v1/batch", json={"batch": batch}).raise_for_status()
                self.sent += per_batch
                next_at += 0.05
                time.sleep(max(0.0, next_at - time.perf_counter()))


def _live(
    browser: Browser, base: str, write_key: str, source_id: str, rate: int, seconds: float
) -> dict[str, Any]:
    page = _signed_in(browser, base)
    page.goto(f"/w/default/sources/{source_id}?tab=live")
    page.get_by_role("status").filter(has_text="Listening").wait_for()
    page.evaluate(_WATCH)
    load = _Load(base, write_key, rate) if rate else None
    if load is not None:
        load.start()
    acknowledged: dict[str, float] = {}
    with httpx.Client(base_url=base, auth=(write_key, "")) as client:
        ends = time.time() + seconds
        while time.time() < ends:
            marker = uuid.uuid4().hex[:10]
            client.post("/v1/track", json={"userId": "m", "event": f"Marker {marker}"})
            acknowledged[marker] = time.time() * 1000
            time.sleep(0.25)
    time.sleep(1.5)
    if load is not None:
        load.stop.set()
        load.join()
    seen: dict[str, float] = page.evaluate("window.__seen")
    frames: list[float] = page.evaluate("window.__frames")
    page.context.close()
    delays = [seen[m] - at for m, at in acknowledged.items() if m in seen]
    return {
        "markers": len(acknowledged),
        "shown": len(delays),
        "delays": delays,
        "frames": frames[5:],
        "sent": load.sent if load is not None else 0,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


FIGURES = ("first", "js", "live", "members")


def _report_first(browser: Browser, base: str, loads: int) -> None:
    screens = _first_screen(browser, base, loads)
    docs = statistics.median(screens["docs"])
    print("first screen (overview with its data), ms: p50 / max, ratio to /api/docs p50")
    print(f"  /api/docs (baseline)  {docs:7.0f} / {max(screens['docs']):7.0f}")
    for kind in ("cold", "warm"):
        median = statistics.median(screens[kind])
        print(
            f"  overview {kind:5}        {median:7.0f} / {max(screens[kind]):7.0f}"
            f"   x{median / docs:.2f}"
        )


def _report_js(browser: Browser, base: str) -> None:
    kilobytes = _initial_js(browser, base)
    print(
        f"initial JavaScript (sign-in), gzipped: {kilobytes:.1f} KB"
        f"   x{kilobytes / BUDGET_KB:.2f} of the {BUDGET_KB} KB budget"
    )


def _report_live(
    browser: Browser, base: str, write_key: str, source_id: str, rate: int, seconds: float
) -> None:
    idle = _live(browser, base, write_key, source_id, 0, seconds)
    busy = _live(browser, base, write_key, source_id, rate, seconds)
    print("live debugger: acknowledgement to row shown, ms (p50 / p95 / max); frames > 50 ms")
    for name, run in (("idle (baseline)", idle), (f"{rate} events/s", busy)):
        delays, frames = run["delays"], run["frames"]
        long = sum(1 for frame in frames if frame > 50)
        print(
            f"  {name:16} {_pct(delays, 0.5):6.0f} / {_pct(delays, 0.95):6.0f} / "
            f"{max(delays, default=float('nan')):6.0f}   shown {run['shown']}/{run['markers']}"
            f"   long frames {long}/{len(frames)}   load sent {run['sent']}"
        )
    ratio = _pct(busy["delays"], 0.95) / _pct(idle["delays"], 0.95)
    print(f"  p95 under load / idle: x{ratio:.2f}")


def _report_members(
    browser: Browser, base: str, write_key: str, people: int, seconds: float
) -> None:
    started = time.perf_counter()
    ui_members.seed(base, write_key, people, 1000)
    seeded = time.perf_counter() - started
    print(f"members: seeded {people:,} profiles and 2 audiences in {seeded:.0f} s")
    page = _signed_in(browser, base)
    ui_members.report(ui_members.measure(page, people, 1000, seconds))
    page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=FIGURES, action="append")
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--scroll-seconds", type=float, default=10)
    arguments = parser.parse_args()
    chosen = arguments.only or FIGURES
    with (
        fresh_database() as (url, data_dir),
        serve_on(url, data_dir, run_processor="true") as port,
        sync_playwright() as playwright,
    ):
        base = f"http://127.0.0.1:{port}"
        write_key, source_id = _seed(base).split("|")
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        if "first" in chosen:
            _report_first(browser, base, arguments.loads)
        if "js" in chosen:
            _report_js(browser, base)
        if "live" in chosen:
            _report_live(browser, base, write_key, source_id, arguments.rate, arguments.seconds)
        if "members" in chosen:
            _report_members(browser, base, write_key, arguments.members, arguments.scroll_seconds)
        browser.close()


if __name__ == "__main__":
    main()
