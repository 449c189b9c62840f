"""The intake's JSON parse (contracts/events.py `load_json`, issue 16 item 1): orjson on the hot
path, the standard parser's decision kept everywhere — the same document for what both accept,
the same document for what only `json` accepts, and the same dead-letter reason for what neither
does."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.events import InvalidEvent, has_long_digit_run, load_json

ACCEPTED = [
    b'{"a": 1, "b": [1.5, -2e3, true, null], "c": "\\u4e2d\\u6587 \xe4\xb8\xad"}',
    b'{"a": 1, "a": 2}',  # a repeated key: the last wins in both
    b'  [1, 2]  ',
    b'{"n": 123456789012345678901234567890}',  # beyond 64 bits: orjson would give a float
    b'{"n": -9223372036854775809, "m": 18446744073709551616}',
    b'{"n": 9223372036854775807, "id": "x1234567890123456789012"}',
    b'{"x": NaN, "y": Infinity}',  # only json
    b'"\\ud800"',  # a lone surrogate escape: only json
    b'\xef\xbb\xbf{"bom": true}',  # a UTF-8 byte order mark: only json
    '{"utf16": 1}'.encode("utf-16"),  # json detects UTF-16
]
REFUSED = [b"", b"not json", b'{"a": 1', b"\xff\xfe\xfa", b'{"a": 1}}', b"{'a': 1}"]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_fast_decode_gives_the_standard_parsers_document(raw: bytes) -> None:
    got, want = load_json(raw), json.loads(raw)
    if isinstance(want, dict) and "x" in want:  # NaN is not equal to itself
        assert repr(got) == repr(want)
    else:
        assert got == want and type(got) is type(want)


@pytest.mark.parametrize("raw", REFUSED)
def test_fast_decode_refuses_with_the_standard_parsers_reason(raw: bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)) as standard:
        json.loads(raw)
    with pytest.raises(InvalidEvent) as refused:
        load_json(raw)
    assert refused.value.reason == f"not JSON: {standard.value}"


LONG_DIGITS = re.compile(rb"\d{19}")  # the check as first written: the fast one must agree


@pytest.mark.parametrize("raw", [
    *ACCEPTED, *REFUSED, b"1" * 18, b"9" * 19, b"x" + b"0123456789" * 2, b"123456789 1234567890",
    "１２３４５６７８９０１２３４５６７８９".encode(), b"\x00" * 19, b"0" * 18 + b"a0",
])
def test_fast_decode_long_digit_run_check_agrees_with_the_regex(raw: bytes) -> None:
    assert has_long_digit_run(raw) == bool(LONG_DIGITS.search(raw))


@given(st.binary(max_size=64) | st.text(alphabet="0123456789 .-e\"", max_size=64).map(str.encode))
def test_fast_decode_long_digit_run_check_agrees_with_the_regex_on_any_bytes(raw: bytes) -> None:
    assert has_long_digit_run(raw) == bool(LONG_DIGITS.search(raw))
