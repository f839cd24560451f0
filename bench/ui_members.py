"""The members table figure of ``bench.ui``: scrolling an audience of 100,000 members.

Seeds, through the tracking API as a customer's site would (``/v1/batch``, 500 identify
calls a request, each with the traits ``big: true`` and, for the first 1,000 people,
``small: true``), then two trait audiences through the management API, recomputed until
their sizes are 100,000 and 1,000. In the page, for each audience, the Members tab is opened
and the table's scroll box is moved by a fixed number of pixels in every animation frame while
the intervals between frames are recorded (``requestAnimationFrame``):

- **while loading** (100,000 only): from the first page, the box scrolls on at
  ``LOADING_STEP`` px a frame (a fast drag of the scroll bar; it stops at the end of what is
  loaded until the next page arrives: scrolling near the end is what loads the next page)
  until every page is loaded;
- **loaded**: every page loaded, from top to bottom in ``seconds`` at 60 frames/s (so
  100,000 rows move 100 times as many pixels a frame as 1,000 rows, each frame shows rows not
  seen before: the scroll bar dragged from top to bottom);
- **loaded, same speed as the baseline**: 100,000 rows at the 1,000-row run's pixels a frame
  (a fast wheel), for as many frames.

A frame is dropped when its interval exceeds 1.5 × 16.7 ms. On a shared machine the intervals
also count the time the page waited for a core, so each run also reports the page's main
thread's own CPU time per frame (the DevTools protocol's ``ThreadTime``), with its script and
layout time: the work the table makes, against the 16.7 ms a frame has. The most rows the table
held in the page (sampled every 10 frames) shows that it stays virtualised.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import CDPSession, Page

from bench.ingest import ADMIN_TOKEN

ROW_HEIGHT = 36
FRAME_MS = 1000 / 60
DROPPED_MS = 1.5 * FRAME_MS
LOADING_STEP = 2000

_SCROLL = """
async ({step, frames, total}) => {
  const box = document.querySelector('.table-scroll[aria-label="Members"]');
  const table = box.querySelector('table');
  // aria-rowcount counts the header row too
  const loaded = () => Number(table.getAttribute('aria-rowcount')) - 1;
  box.scrollTop = 0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const intervals = [];
  let most = 0;
  const started = performance.now();
  return await new Promise((resolve) => {
    let last = performance.now();
    const tick = (now) => {
      intervals.push(now - last);
      last = now;
      if (intervals.length % 10 === 0) {
        most = Math.max(most, box.querySelectorAll('tbody tr').length);
      }
      const bottom = box.scrollTop >= box.scrollHeight - box.clientHeight - 1;
      const done = total ? loaded() >= total && bottom : intervals.length >= frames;
      if (done || performance.now() - started > 600000) {
        resolve({intervals, most, loaded: loaded(), ms: performance.now() - started});
        return;
      }
      box.scrollTop += step;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""


def seed(base: str, write_key: str, people: int, baseline: int) -> None:
    """``people`` profiles with ``big``, the first ``baseline`` with ``small`` too; the two
    audiences ``big`` and ``small``, recomputed until every profile is a member."""
    with httpx.Client(base_url=base, auth=(write_key, ""), timeout=60) as client:
        for start in range(0, people, 500):
            batch = [
                {
                    "type": "identify",
                    "userId": f"member{i:06d}",
                    "traits": {
                        "email": f"member{i:06d}@example.com",
                        "big": True,
                        **({"small": True} if i < baseline else {}),
                    },
                }
                for i in range(start, min(people, start + 500))
            ]
            client.post("/v1/batch", json={"batch": batch}).raise_for_status()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
        for key, size in (("big", people), ("small", baseline)):
            condition = {"type": "trait", "trait": key, "operator": "equals", "value": True}
            admin.post(
                "/api/v1/workspaces/default/audiences",
                json={
                    "key": key,
                    "name": key,
                    "definition": {"version": 1, "condition": condition},
                },
            ).raise_for_status()
            _computed(admin, key, size)


def _computed(admin: httpx.Client, key: str, size: int, seconds: float = 600) -> None:
    """Recompute ``key`` until it has ``size`` members (the processor may still be making
    profiles when the audience is saved)."""
    path = f"/api/v1/workspaces/default/audiences/{key}"
    deadline = time.monotonic() + seconds
    while True:
        admin.post(f"{path}/recompute", timeout=600).raise_for_status()
        found = admin.get(path).json()["size"]
        if found >= size:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"audience {key}: {found} members of {size} after {seconds} s")
        time.sleep(2)


_METRICS = ("ThreadTime", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def _metrics(cdp: CDPSession) -> dict[str, float]:
    found = cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: m["value"] for m in found if m["name"] in _METRICS}


def _scroll(page: Page, step: float, frames: int, total: int) -> dict[str, Any]:
    """One scroll of the Members table as described above, with its main thread's work."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    before = _metrics(cdp)
    found: dict[str, Any] = page.evaluate(_SCROLL, {"step": step, "frames": frames, "total": total})
    after = _metrics(cdp)
    cdp.detach()
    found["intervals"] = found["intervals"][2:]
    found["work"] = {name: (after[name] - before[name]) * 1000 for name in _METRICS}
    return found


def _opened(page: Page, key: str) -> None:
    page.goto(f"/w/default/audiences/{key}")
    page.locator('.table-scroll[aria-label="Members"] tbody tr').first.wait_for()


def _load_all(page: Page, people: int) -> None:
    """Scroll to the end until every page is loaded (auto-loading, no button)."""
    box = page.locator('.table-scroll[aria-label="Members"]')
    table = box.locator("table")
    deadline = time.monotonic() + 600
    while int(table.get_attribute("aria-rowcount") or 0) - 1 < people:
        assert time.monotonic() < deadline, "the pages did not all load"
        box.evaluate("(box) => { box.scrollTop = box.scrollHeight; }")
        page.wait_for_timeout(50)


def measure(page: Page, people: int, baseline: int, seconds: float) -> dict[str, dict[str, Any]]:
    """The runs described in this module's docstring, by name."""
    frames = int(seconds * 60)
    small_step = baseline * ROW_HEIGHT / frames
    runs: dict[str, dict[str, Any]] = {}
    _opened(page, "small")
    runs[f"{baseline:,} loaded, top to bottom (baseline)"] = _scroll(
        page, small_step, frames * 2, total=baseline
    )
    _opened(page, "big")
    runs[f"{people:,} while loading, {LOADING_STEP} px/frame"] = _scroll(
        page, LOADING_STEP, 0, total=people
    )
    _load_all(page, people)
    # the same page, every member loaded: scroll from the top again
    runs[f"{people:,} loaded, top to bottom"] = _scroll(
        page, people * ROW_HEIGHT / frames, frames, total=0
    )
    runs[f"{people:,} loaded, baseline's speed"] = _scroll(page, small_step, frames, total=0)
    return runs


def stats(intervals: list[float]) -> dict[str, float]:
    ordered = sorted(intervals)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    return {
        "frames": len(ordered),
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": ordered[-1] if ordered else float("nan"),
        "dropped": sum(1 for i in ordered if i > DROPPED_MS),
    }


def report(runs: dict[str, dict[str, Any]]) -> None:
    print(
        "members table scroll, frame interval ms (p50 / p95 / p99 / max); dropped = over "
        f"{DROPPED_MS:.1f} ms; most rows in the page"
    )
    base = next(iter(runs.values()))
    base_stats = stats(base["intervals"])
    for name, run in runs.items():
        s = stats(run["intervals"])
        ratio = s["p99"] / base_stats["p99"]
        print(
            f"  {name:40} {s['frames']:5.0f} frames  {s['p50']:5.1f} / {s['p95']:5.1f} / "
            f"{s['p99']:5.1f} / {s['max']:6.1f}   dropped {s['dropped']:4.0f} "
            f"({100 * s['dropped'] / max(1, s['frames']):4.1f} %)   rows in page {run['most']:3}"
            f"   loaded {run['loaded']:,} in {run['ms'] / 1000:5.1f} s   p99 x{ratio:.2f}"
        )
        work, frames = run["work"], max(1, s["frames"])
        print(
            f"  {'':40} main thread CPU {work['ThreadTime'] / frames:5.2f} ms/frame (script "
            f"{work['ScriptDuration'] / frames:5.2f}, layout and style "
            f"{(work['LayoutDuration'] + work['RecalcStyleDuration']) / frames:5.2f})"
        )
