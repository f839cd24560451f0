"""Events on chosen days, appended through the PostgreSQL log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import LogRecord, PostgresLog
from headwater.spec import Event, format_timestamp


def record(
    message_id: str, received_at: datetime, *, workspace_id: int, source_id: int
) -> LogRecord:
    payload = {
        "type": "track",
        "event": "Order Completed",
        "messageId": message_id,
        "userId": "user-1",
        "properties": {},
        "context": {},
        "integrations": {},
        "timestamp": format_timestamp(received_at),
        "receivedAt": format_timestamp(received_at),
    }
    event = Event(
        type="track",
        message_id=message_id,
        user_id="user-1",
        anonymous_id=None,
        name="Order Completed",
        timestamp=received_at,
        received_at=received_at,
        payload=payload,
    )
    return LogRecord(workspace_id=workspace_id, source_id=source_id, event=event)


async def append(
    engine: AsyncEngine, received_at: datetime, count: int, *, workspace_id: int, source_id: int
) -> None:
    log = PostgresLog(engine, 4)
    try:
        await log.append(
            [
                record(
                    f"{source_id}-{received_at:%Y%m%d%H%M}-{n}",
                    received_at,
                    workspace_id=workspace_id,
                    source_id=source_id,
                )
                for n in range(count)
            ]
        )
    finally:
        await log.close()
