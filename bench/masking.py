"""The cost of masking personal values in a management API answer (``pii:read`` missing): the
middleware decodes the JSON body, masks it and encodes it again. Measured on pages of events
shaped as ``GET .../sources/{id}/events`` answers them (identify calls with a person's traits).

    .venv/bin/python -m bench.masking --events 50 1000 --rounds 20

Prints, per page size, the median time to decode and encode the page alone and with masking.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from headwater.access import mask

__all__ = ["main"]

_AT = "2026-12-05T16:00:00.000Z"


def event(i: int) -> dict[str, Any]:
    """One stored identify event, as the management API answers it."""
    traits = {
        "email": f"p{i}@example.com",
        "phone": f"+3519{i:08d}",
        "firstName": "Ana",
        "lastName": "Lima",
        "plan": "pro",
        "age": 40,
        "address": {"street": "1 Rua", "city": "Lisbon", "postalCode": "1000-001"},
    }
    context = {
        "ip": "203.0.113.9",
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "page": {"url": "https://shop.test/a", "title": "A", "referrer": ""},
        "userAgent": "Mozilla/5.0",
    }
    payload = {
        "type": "identify",
        "userId": f"u-{i}",
        "anonymousId": f"a-{i}",
        "messageId": f"m-{i}",
        "traits": traits,
        "context": context,
        "timestamp": _AT,
        "receivedAt": _AT,
        "sentAt": _AT,
        "originalTimestamp": _AT,
        "integrations": {},
    }
    return {
        "offset": i,
        "partition": 0,
        "sourceId": 1,
        "messageId": f"m-{i}",
        "type": "identify",
        "name": None,
        "receivedAt": _AT,
        "payload": payload,
    }


def _median_ms(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for count in args.events:
        body = msgspec.json.encode([event(i) for i in range(count)])
        plain = _median_ms(lambda b=body: msgspec.json.encode(msgspec.json.decode(b)), args.rounds)
        masked = _median_ms(
            lambda b=body: msgspec.json.encode(mask(msgspec.json.decode(b))), args.rounds
        )
        print(
            f"{count} events, {len(body) // 1024} KiB: decode+encode {plain:.2f} ms, "
            f"decode+mask+encode {masked:.2f} ms"
        )


if __name__ == "__main__":
    main()
