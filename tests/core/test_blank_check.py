"""`_blank`, the one-field check the meter values and status reports make, says what
`_empty` says of that field: for any text (spaces, controls, nothing) and for None."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chargenet.core.events.base import _blank, _empty

_SPACEY = st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000ax\x00"), max_size=6)


@given(st.one_of(st.none(), _SPACEY, st.text(max_size=8)))
def test_blank_says_what_empty_says(value: str | None) -> None:
    assert _blank("connector_id", value) == _empty(connector_id=value)
