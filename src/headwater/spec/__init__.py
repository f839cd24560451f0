"""The Segment spec as pure functions: messages (typed), normalisation, limits, timestamps."""

from headwater.spec.body import DecodedRequest, Limits, Unreadable, decode_body
from headwater.spec.context import Context, PageContext
from headwater.spec.message import (
    MESSAGE_TYPES,
    SHORT_TYPES,
    Event,
    Rejection,
    encode_payload,
    encode_payload_bytes,
)
from headwater.spec.messages import (
    Alias,
    Group,
    Identify,
    InvalidMessage,
    Message,
    Page,
    Screen,
    Track,
    decode_message,
    encode_message,
    message_builtins,
    message_of,
    properties_of,
    reserved_trait,
    stored_field,
    traits_of,
)
from headwater.spec.normalise import ADDED_BYTES, Envelope, normalise
from headwater.spec.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "ADDED_BYTES",
    "MESSAGE_TYPES",
    "SHORT_TYPES",
    "Alias",
    "Context",
    "DecodedRequest",
    "Envelope",
    "Event",
    "Group",
    "Identify",
    "InvalidMessage",
    "Limits",
    "Message",
    "Page",
    "PageContext",
    "Rejection",
    "Screen",
    "Track",
    "Unreadable",
    "decode_body",
    "decode_message",
    "encode_message",
    "encode_payload",
    "encode_payload_bytes",
    "format_timestamp",
    "message_builtins",
    "message_of",
    "normalise",
    "parse_timestamp",
    "properties_of",
    "reserved_trait",
    "stored_field",
    "traits_of",
]
