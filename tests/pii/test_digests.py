"""What a ``hash`` rule writes: the HMAC-SHA256 of the value with the workspace's salt."""

from __future__ import annotations

import hashlib
import hmac

from headwater.pii.digests import digest


def test_a_digest_is_the_hmac_sha256_of_the_value_with_the_salt() -> None:
    salt = b"workspace-salt"
    assert (
        digest("ana@example.com", salt) == hmac.new(salt, b"ana@example.com", "sha256").hexdigest()
    )
    long_salt = b"k" * 100  # longer than SHA-256's block: hashed first, as RFC 2104 says
    assert digest("x", long_salt) == hmac.new(long_salt, b"x", hashlib.sha256).hexdigest()
    assert digest(42, salt) == hmac.new(salt, b"42", "sha256").hexdigest()  # not text: JSON
    assert digest("x" * 101, salt) == hmac.new(salt, b"x" * 101, "sha256").hexdigest()
