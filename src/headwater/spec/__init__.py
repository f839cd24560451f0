"""The Segment spec as pure functions: messages (typed), normalisation, limits, timestamps."""

from headwater.spec.body import DecodedRequest, Limits, Unreadable, decode_body
from headwater.spec.context import Context, PageContext
from headwater.spec.flat import normalise_flat
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
    encode_messages,
    message_builtins,
    message_of,
    properties_of,
    reserved_trait,
    stored_field,
    traits_of,
)
from headwater.spec.normalise import ADDED_BYTES, Envelope, normalise
from headwater.spec.parsed import (
    MESSAGE_TYPES,
    SHORT_TYPES,
    Event,
    Rejection,
    encode_payload,
    encode_payload_bytes,
)
from headwater.spec.timestamps import Timestamp, format_timestamp, parse_timestamp

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
    "Timestamp",
    "Track",
    "Unreadable",
    "decode_body",
    "decode_message",
    "encode_message",
    "encode_messages",
    "encode_payload",
    "encode_payload_bytes",
    "format_timestamp",
    "message_builtins",
    "message_of",
    "normalise",
    "normalise_flat",
    "parse_timestamp",
    "properties_of",
    "reserved_trait",
    "stored_field",
    "traits_of",
]
