"""The Segment spec as pure functions: messages, normalisation, limits, timestamps."""

from headwater.spec.body import DecodedRequest, Limits, Unreadable, decode_body
from headwater.spec.message import (
    MESSAGE_TYPES,
    SHORT_TYPES,
    Event,
    Rejection,
    encode_payload,
    encode_payload_bytes,
)
from headwater.spec.normalise import ADDED_BYTES, Envelope, normalise
from headwater.spec.timestamps import Timestamp, format_timestamp, parse_timestamp

__all__ = [
    "ADDED_BYTES",
    "MESSAGE_TYPES",
    "SHORT_TYPES",
    "DecodedRequest",
    "Envelope",
    "Event",
    "Limits",
    "Rejection",
    "Timestamp",
    "Unreadable",
    "decode_body",
    "encode_payload",
    "encode_payload_bytes",
    "format_timestamp",
    "normalise",
    "parse_timestamp",
]
