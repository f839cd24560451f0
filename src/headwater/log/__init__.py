"""The event log interface and its implementations."""

from headwater.log.base import EventLog, LogEntry, LogRecord
from headwater.log.postgres import PostgresLog

__all__ = ["EventLog", "LogEntry", "LogRecord", "PostgresLog"]
