"""Run one benchmark on two checkouts, alternated back to back, to compare code on a machine
whose speed drifts: old, new, old, new, ... Each checkout runs with its own ``.venv``.

    .venv/bin/python -m bench.alternate --old ../old --rounds 2 identity -- --people 20000

Prints each run's output under a header naming the checkout and the round; compare figures
within one round (the two runs are minutes apart), never across rounds.

``--same-bench`` runs this checkout's bench module on both, for a bench the other checkout
lacks (``management``): the module runs with the other checkout's ``.venv``, ``headwater`` and
``bench`` package, so it may use only what both have.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]

HERE = Path(__file__).resolve().parent.parent


def _run(checkout: Path, bench: str, args: list[str], *, same: bool) -> tuple[int, str]:
    python = checkout / ".venv" / "bin" / "python"
    command = [str(python), "-m", f"bench.{bench}", *args]
    if same and checkout != HERE:
        script = HERE / "bench" / f"{bench}.py"
        path = str(script)
        run = (
            f"import runpy, sys; sys.path.insert(0, '.'); sys.argv[0] = {path!r};"
            f" runpy.run_path({path!r}, run_name='__main__')"
        )
        command = [str(python), "-c", run, *args]
    done = subprocess.run(
        command,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--same-bench", action="store_true", help="run this checkout's bench on both"
    )
    parser.add_argument("bench", help="ingest, identity, delivery, ...")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="after --: the bench's arguments")
    options = parser.parse_args()
    args = [arg for arg in options.args if arg != "--"]
    checkouts = {"old": options.old.resolve(), "new": HERE}
    for label, checkout in checkouts.items():
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"{label}: {checkout} at {commit.stdout.strip()}")
    failed = False
    for round_ in range(1, options.rounds + 1):
        for label, checkout in checkouts.items():
            started = time.monotonic()
            code, output = _run(checkout, options.bench, args, same=options.same_bench)
            took = time.monotonic() - started
            print(f"\n=== round {round_}, {label} ({took:.0f} s, exit {code})", flush=True)
            print(output, flush=True)
            failed = failed or code != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
