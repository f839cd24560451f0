"""The event log interface and its implementations."""

from headwater.log.base import Amend, EventLog, LogEntry, LogRecord
from headwater.log.consumer import Consumer, Handler, Isolate, is_transient
from headwater.log.jetstream import JetStreamLog, StreamOptions
from headwater.log.memory import MemoryLog, MemoryStorage
from headwater.log.postgres import PostgresLog
from headwater.log.relation import GOVERNED_EVENTS

__all__ = [
    "GOVERNED_EVENTS",
    "Amend",
    "Consumer",
    "EventLog",
    "Handler",
    "Isolate",
    "JetStreamLog",
    "LogEntry",
    "LogRecord",
    "MemoryLog",
    "MemoryStorage",
    "PostgresLog",
    "StreamOptions",
    "is_transient",
]
