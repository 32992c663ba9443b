"""Google Consent Mode gcs / gcd decoding against the community reference table."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.decode import consent_mode as cm
from privdiag.decode.consent_mode import TypeState, decode_gcd, decode_gcs, decode_letter
from privdiag.errors import InputError
from privdiag.purposes import PURPOSES


def _reference(realdata) -> dict:
    path = realdata / "consent_mode" / "gcs_gcd_decoding_reference.json"
    return json.loads(path.read_text())


def _state(word: str) -> str | None:
    """The reference file writes 'not_set' where we return None."""
    return None if word == "not_set" else word


def test_reference_alphabet_is_ours(realdata):
    assert _reference(realdata)["alphabet"] == cm.ALPHABET


def test_every_reference_letter(realdata):
    table = _reference(realdata)["letter_table"]
    assert len(table) == 9
    for letter, expected in table.items():
        got = decode_letter(letter)
        assert got == TypeState(_state(expected["default"]), _state(expected["update"])), letter


def test_every_reference_gcs(realdata):
    for value, expected in _reference(realdata)["gcs_table"].items():
        assert decode_gcs(value) == expected, value


def test_both_reference_gcd_examples(realdata):
    examples = _reference(realdata)["examples"]
    assert [e["gcd"] for e in examples] == ["13r3r3r3r5l1", "11p1t1p1t5"]
    for example in examples:
        got = decode_gcd(example["gcd"])
        assert list(got) == list(example["decoded_by_rule"])
        for name, expected in example["decoded_by_rule"].items():
            want = TypeState(_state(expected["default"]), _state(expected["update"]))
            assert got[name] == want, (example["gcd"], name)


def test_effective_state_prefers_update():
    got = decode_gcd("11p1t1m1l5")
    assert [s.effective for s in got.values()] == ["denied", "granted", "denied", None]
    # u = default granted, update denied
    assert decode_gcd("13r3u3r3r5")["analytics_storage"].effective == "denied"


def test_purpose_mapping():
    assert cm.gcd_purposes("11p1t1p1l5") == {
        "ads": False, "analytics": True, "ad_user_data": False, "ad_personalization": None,
    }  # fmt: skip
    assert cm.gcs_purposes("G110") == {"ads": True, "analytics": False}


@pytest.mark.parametrize("value", ["", "G1", "G102", "G1100", "g111", "G211", "G1--", None, 111])
def test_malformed_gcs(value):
    with pytest.raises(InputError, match="gcs"):
        decode_gcs(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "malformed"),
        ("11p1t1p", "malformed"),  # only 3 pairs
        ("1pp1t1p1t5", "malformed"),  # pair without its digit
        ("11p1t1p1t5!", "malformed"),
        ("11k1t1p1t5", "letter 'k'"),  # k = index 20: update 0 is no state
        ("1101t1p1t5", "letter '0'"),
        (None, "malformed"),
    ],
)
def test_malformed_gcd(value, message):
    with pytest.raises(InputError, match=message):
        decode_gcd(value)


def test_decode_many_gcd():
    table = cm.decode_many_gcd(["13r3r3r3r5l1", None, "bad", "13r3r3r3r5l1", "11p1t1p1l5"])
    states = [f"{t}_{p}" for t in cm.GCD_TYPES for p in ("default", "update", "effective")]
    assert table.column_names == ["gcd", "error", *states, *(f"consent_{p}" for p in PURPOSES)]
    rows = table.to_pylist()
    assert [r["gcd"] for r in rows] == ["13r3r3r3r5l1", "bad", "11p1t1p1l5"]
    assert rows[0]["ad_storage_default"] == "denied" and rows[0]["ad_storage_update"] == "granted"
    assert rows[0]["consent_ads"] is True and rows[0]["consent_personalization"] is None
    assert "malformed" in rows[1]["error"] and rows[1]["consent_ads"] is None
    assert rows[2]["ad_personalization_effective"] is None
    assert rows[2]["consent_ad_personalization"] is None and rows[2]["consent_analytics"] is True


def test_decode_many_gcs():
    rows = cm.decode_many_gcs(["G101", "G101", "x", None]).to_pylist()
    assert len(rows) == 2
    assert rows[0]["ad_storage"] == "denied" and rows[0]["analytics_storage"] == "granted"
    assert rows[0]["consent_ads"] is False and rows[0]["consent_analytics"] is True
    assert rows[0]["consent_ad_user_data"] is None and rows[1]["error"]
    assert cm.decode_many_gcs([]).schema == cm.gcs_schema()


# --- properties ---------------------------------------------------------------------------

STATE_CODES = {None: 1, "denied": 2, "granted": 3}
states = st.sampled_from([None, "denied", "granted"])


def _encode_letter(default: str | None, update: str | None) -> str:
    return cm.ALPHABET[16 + 4 * STATE_CODES[default] + STATE_CODES[update]]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(states, states), min_size=4, max_size=4),
    st.text("0123456789", min_size=5, max_size=5),
    st.text(cm.ALPHABET, max_size=4),
)
def test_gcd_round_trip(pairs, digits, marker):
    letters = [_encode_letter(d, u) for d, u in pairs]
    value = digits[0] + "".join(d + x for d, x in zip(digits[1:], letters, strict=True)) + marker
    got = decode_gcd(value)
    assert [(s.default, s.update) for s in got.values()] == pairs


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=20), st.text(cm.ALPHABET, min_size=9, max_size=14)))
def test_garbage_raises_only_input_error(value):
    for decoder in (decode_gcd, decode_gcs):
        try:
            decoder(value)
        except InputError as exc:
            assert exc.message
    assert cm.decode_many_gcd([value]).num_rows == 1


@given(st.booleans(), st.booleans())
def test_gcs_round_trip(ad, analytics):
    got = decode_gcs(f"G1{int(ad)}{int(analytics)}")
    assert got == {
        "ad_storage": "granted" if ad else "denied",
        "analytics_storage": "granted" if analytics else "denied",
    }
