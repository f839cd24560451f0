"""End-to-end tests: the official Segment and RudderStack client libraries against a running
``headwater serve``, and a kill -9 in the middle of a load."""

import pytest

# The shared assertions live in a helper module: let pytest explain their failures.
pytest.register_assert_rewrite("tests.e2e.expect")
