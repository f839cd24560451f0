"""The file of a ``multipart/form-data`` body (a browser's form, ``curl -F file=@orders.csv``),
streamed: never the whole body in memory.

>>> part = await file_part(request.stream(), boundary_of(content_type))
>>> part.file_name, part.content_type       # from the part's headers
('orders.csv', 'text/csv')
>>> async for chunk in part.chunks: ...     # the file's bytes, and nothing else

The file is the first part with a ``filename`` in its ``Content-Disposition`` (whatever its
field name); text fields before it are skipped (each up to :data:`_MAX_SKIPPED` bytes), parts
after it are not read. A body that is not well-formed raises :class:`BadRequest`
``invalid_multipart`` saying what is wrong, while it streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import Message
from typing import Final, NamedTuple

from headwater.errors import BadRequest

__all__ = ["FilePart", "boundary_of", "file_part"]

_MAX_HEADERS: Final = 16 * 1024
_MAX_SKIPPED: Final = 64 * 1024
"""Bytes of a form's text field before the file: the form is for one file."""


class FilePart(NamedTuple):
    file_name: str
    content_type: str | None
    chunks: AsyncIterator[bytes]


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a ``multipart/form-data`` content type, or None when it is not one."""
    header = _parsed("content-type", content_type)
    if header.get_content_type() != "multipart/form-data":
        return None
    boundary = header.get_param("boundary", header="content-type")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise BadRequest(
            "invalid_multipart", "multipart/form-data needs a boundary of 1 to 70 characters"
        )
    return boundary.encode("latin-1")


def _parsed(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def _invalid(why: str) -> BadRequest:
    return BadRequest("invalid_multipart", f"the multipart/form-data body {why}")


class _Reader:
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self.buffer = bytearray()

    async def more(self) -> bool:
        chunk = await anext(self._chunks, None)
        if chunk is None:
            return False
        self.buffer += chunk
        return True

    async def until(self, marker: bytes, limit: int, what: str) -> bytes:
        """The bytes before ``marker`` (consumed with it), at most ``limit``."""
        while (found := self.buffer.find(marker)) < 0:
            if len(self.buffer) > limit + len(marker):
                raise _invalid(f"has {what} over {limit} bytes")
            if not await self.more():
                raise _invalid(f"ends inside {what}")
        head = bytes(self.buffer[:found])
        del self.buffer[: found + len(marker)]
        return head

    async def stream(self, marker: bytes) -> AsyncIterator[bytes]:
        """The bytes before ``marker``, as they arrive (``marker`` consumed)."""
        keep = len(marker) - 1
        while (found := self.buffer.find(marker)) < 0:
            if len(self.buffer) > keep:
                yield bytes(self.buffer[:-keep])
                del self.buffer[:-keep]
            if not await self.more():
                raise _invalid("ends inside the file (its closing boundary is missing)")
        if found:
            yield bytes(self.buffer[:found])
        del self.buffer[: found + len(marker)]


async def file_part(chunks: AsyncIterator[bytes], boundary: bytes) -> FilePart:
    """The first file of the body ``chunks`` (delimited by ``boundary``), its bytes streamed
    from the rest of ``chunks``. 400 ``invalid_multipart`` when there is none."""
    reader = _Reader(chunks)
    delimiter = b"--" + boundary
    await reader.until(delimiter, _MAX_SKIPPED, "a preamble")
    while True:
        while len(reader.buffer) < 2:
            if not await reader.more():
                raise _invalid("ends after a boundary")
        if reader.buffer.startswith(b"--"):
            raise _invalid("has no file part (send the file as a field with a filename)")
        head = await reader.until(b"\r\n\r\n", _MAX_HEADERS, "a part's headers")
        headers = _headers(head)
        disposition = _parsed("content-disposition", headers.get("content-disposition", ""))
        name = disposition.get_filename()
        if name is not None:
            return FilePart(name, headers.get("content-type"), reader.stream(b"\r\n" + delimiter))
        await reader.until(b"\r\n" + delimiter, _MAX_SKIPPED, "a text field")


def _headers(head: bytes) -> dict[str, str]:
    """A part's headers by lower-case name (the line after the boundary comes first: empty)."""
    found: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            found[name.strip().lower()] = value.strip()
    return found
