"""The event log on NATS JetStream (scale-out): :class:`JetStreamLog` and its stream's options."""

from headwater.log.jetstream.log import JetStreamLog
from headwater.log.jetstream.stream import StreamOptions

__all__ = ["JetStreamLog", "StreamOptions"]
