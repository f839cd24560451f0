"""The log's JetStream stream: its configuration, and the reads the log makes of it.

One stream holds every partition, one subject each (``<prefix>.p.<partition>``): JetStream
gives each message a stream sequence, unique across subjects and growing in the order the
stream stored them, which is the log's offset. Appends are published with ``Nats-Msg-Id``, so a
retry inside the stream's duplicate window is dropped by the server and acknowledged with the
first message's sequence.

Entries a consumer set aside (they failed alone: :meth:`headwater.log.EventLog.set_aside`) are
copied to a second stream, ``<name>_DEAD``, one subject per entry
(``<prefix>.dead.<partition>.<offset>``), with the consumer, stage and reason as headers: the
dead-letter subjects NATS tools can watch. The failures table in PostgreSQL stays the record the
API lists and replays from; a copy is removed with the entry when a person is forgotten.

A partition is read with a batched direct get (one request, the messages of one subject from
a sequence on, ended by an end-of-batch status): stateless, so a consumer positioned by its
committed offset reads without any server-side consumer to create or clean up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import DiscardPolicy, StorageType, StreamConfig, StreamInfo

__all__ = ["LogUnavailable", "Stored", "Stream", "StreamOptions", "unavailable"]

_STATUS = "Status"
_END_OF_BATCH = "204"
_NOT_FOUND = "404"
_SEQUENCE = "Nats-Sequence"
_STORED_AT = "Nats-Time-Stamp"
_NO_MESSAGE = 10057
"""JetStream's error code for a sequence that holds no message."""


class LogUnavailable(ConnectionError):
    """JetStream did not do what was asked (no server reachable, no quorum, a timeout, an
    error answer). A ``ConnectionError``, so callers treat it as the database being away:
    collection answers 503 (SDKs retry), a consumer retries its round later."""


@contextmanager
def unavailable() -> Iterator[None]:
    """Raise :class:`LogUnavailable` for any error of the NATS client inside."""
    try:
        yield
    except nats.errors.Error as error:
        raise LogUnavailable(f"NATS JetStream: {type(error).__name__}: {error}") from error


@dataclass(frozen=True, kw_only=True)
class StreamOptions:
    """How the stream is made when it does not exist yet (an existing one is left as it is:
    change it with the ``nats`` tool)."""

    name: str = "HEADWATER_EVENTS"
    replicas: int = 1
    duplicate_window_seconds: float = 120.0
    max_age_seconds: float = 7 * 86400.0
    request_timeout_seconds: float = 10.0

    @property
    def prefix(self) -> str:
        """Subjects of this stream start with it; the stream's name keeps two logs apart."""
        return f"headwater.{self.name.lower()}"


@dataclass(frozen=True)
class Stored:
    """A message as the stream holds it: its sequence, its body, when the stream stored it."""

    sequence: int
    body: bytes
    stored_at: datetime


class Stream:
    """The stream of one log, on one connection."""

    def __init__(self, client: Client, options: StreamOptions) -> None:
        self.client = client
        self.options = options
        self.jetstream = client.jetstream(timeout=options.request_timeout_seconds)
        self.duplicate_window_seconds = options.duplicate_window_seconds
        """The stream's own duplicate window (an existing stream keeps its own), once
        :meth:`ensure` has looked."""

    def subject(self, partition: int) -> str:
        return f"{self.options.prefix}.p.{partition}"

    @property
    def dead_letters(self) -> str:
        """The stream the entries set aside are copied to."""
        return f"{self.options.name}_DEAD"

    def dead_subject(self, partition: int, offset: int) -> str:
        return f"{self.options.prefix}.dead.{partition}.{offset}"

    @property
    def appended(self) -> str:
        """A core subject (not in the stream) told after each append: wakes waiting readers."""
        return f"{self.options.prefix}.appended"

    async def ensure(self, *, first_sequence: int) -> None:
        """Create the stream unless it exists, its first sequence ``first_sequence`` (past the
        offsets an earlier log of the installation used); and the dead-letter stream."""
        prefix = self.options.prefix
        self._found(
            await self._ensure(self.options.name, f"{prefix}.p.*", first_seq=first_sequence)
        )
        await self._ensure(self.dead_letters, f"{prefix}.dead.*.*")

    async def _ensure(
        self, name: str, subjects: str, *, first_seq: int | None = None
    ) -> StreamInfo:
        """Create the stream ``name`` of ``subjects`` unless it exists (file storage, the
        options' replicas, duplicate window and maximum age, direct gets allowed); its info."""
        options = self.options
        try:
            return await self.jetstream.stream_info(name)
        except nats.js.errors.NotFoundError:
            pass
        config = StreamConfig(
            name=name,
            subjects=[subjects],
            storage=StorageType.FILE,
            num_replicas=options.replicas,
            duplicate_window=options.duplicate_window_seconds,
            max_age=options.max_age_seconds,
            discard=DiscardPolicy.OLD,
            allow_direct=True,
            first_seq=first_seq,
        )
        try:
            return await self.jetstream.add_stream(config)
        except nats.js.errors.BadRequestError:
            # Another process created it meanwhile (with its own first sequence): use that one.
            return await self.jetstream.stream_info(name)

    async def set_aside(
        self, partition: int, offset: int, body: bytes, headers: dict[str, str]
    ) -> None:
        """Copy an entry set aside to its dead-letter subject, acknowledged; a copy made
        before (a retried batch) is dropped by the server as a duplicate."""
        await self.jetstream.publish(
            self.dead_subject(partition, offset),
            body,
            headers={**headers, "Nats-Msg-Id": f"{partition}:{offset}"},
        )

    async def forget_dead(self, offsets: set[int]) -> None:
        """Remove the dead-letter copies of the entries at ``offsets``."""
        prefix = f"{self.options.prefix}.dead."
        info = await self.jetstream.stream_info(self.dead_letters, subjects_filter=prefix + ">")
        for subject in info.state.subjects or {}:
            if int(subject.rsplit(".", 1)[1]) in offsets:
                await self.jetstream.purge_stream(self.dead_letters, subject=subject)

    def _found(self, info: StreamInfo) -> None:
        window = info.config.duplicate_window
        if window is not None:
            self.duplicate_window_seconds = float(window)

    async def writable(self) -> bool:
        """Whether the stream could acknowledge an append now: it has a leader and, with the
        leader, a quorum of its replicas are current."""
        info = await self.jetstream.stream_info(self.options.name)
        cluster = info.cluster
        if cluster is None:  # no clustering to report: the stream's server answered
            return True
        if not cluster.leader:
            return False
        current = 1 + sum(1 for peer in cluster.replicas or [] if peer.current and not peer.offline)
        return current >= (info.config.num_replicas or 1) // 2 + 1

    async def read(self, partition: int, *, after: int, limit: int) -> list[Stored]:
        """``partition``'s messages with sequences above ``after``, oldest first, at most
        ``limit``."""
        request = json.dumps(
            {"seq": after + 1, "next_by_subj": self.subject(partition), "batch": limit}
        ).encode()
        inbox = self.client.new_inbox()
        subscription = await self.client.subscribe(inbox)
        found: list[Stored] = []
        try:
            await self.client.publish(
                f"$JS.API.DIRECT.GET.{self.options.name}", request, reply=inbox
            )
            while True:
                message = await subscription.next_msg(self.options.request_timeout_seconds)
                status = _status(message)
                if status in (_END_OF_BATCH, _NOT_FOUND):
                    return found
                if status is not None:
                    raise nats.js.errors.APIError(description=f"direct get answered {status}")
                found.append(
                    Stored(
                        int(_header(message, _SEQUENCE)),
                        message.data,
                        datetime.fromisoformat(_header(message, _STORED_AT)),
                    )
                )
                if len(found) == limit:
                    return found
        finally:
            await subscription.unsubscribe()

    async def message(self, sequence: int) -> bytes | None:
        """The body of the message at ``sequence``, or None when there is none."""
        try:
            stored = await self.jetstream.get_msg(self.options.name, seq=sequence, direct=True)
        except nats.js.errors.NotFoundError:
            return None
        return stored.data or b""

    async def delete(self, sequence: int) -> None:
        """Remove the message at ``sequence``; one already gone is no error."""
        try:
            await self.jetstream.delete_msg(self.options.name, sequence)
        except nats.js.errors.APIError as error:
            if error.err_code != _NO_MESSAGE:
                raise


def _status(message: Msg) -> str | None:
    headers = message.headers or {}
    return headers.get(_STATUS)


def _header(message: Msg, name: str) -> str:
    headers = message.headers or {}
    value = headers.get(name)
    if value is None:
        raise nats.js.errors.APIError(description=f"a direct get answer without {name}")
    return value
