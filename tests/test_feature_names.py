"""The column names an input's features are given (privdiag.ingest.sqlparts.FeatureNames):
no clash with a canonical column, a state column or a name given before, whatever the case."""

from __future__ import annotations

from privdiag.ingest.sqlparts import CANONICAL_COLUMNS, FeatureNames


def test_a_feature_named_as_a_canonical_column_is_a_parameter():
    """`ts` and `rowid` are privdiag's own names: the feature keeps its key behind param_."""
    names = FeatureNames(CANONICAL_COLUMNS)
    assert names.give("ts") == "param_ts"
    assert names.give("rowid") == "param_rowid"
    assert names.give("state_ads") == "param_state_ads"


def test_names_given_before_are_compared_without_case():
    names = FeatureNames()
    assert [names.give(k) for k in ("gclid", "GCLID", "Gclid", "gclid_")] == [
        "gclid",
        "GCLID_",
        "Gclid__",
        "gclid___",
    ]


def test_names_to_avoid_count_for_that_feature_alone():
    """Segment names a property beside the context fields it will add later (``avoid``)."""
    names = FeatureNames()
    assert names.give("page_url", avoid={"PAGE_URL"}) == "page_url_"
    assert names.give("page_url") == "page_url"  # avoid was for the feature above only
    assert names.give("PAGE_URL_") == "PAGE_URL__"  # page_url_ was given


def test_thousands_of_names_are_each_given_once():
    """The bench's wide export names 3,000 columns; each keeps its key, none repeats."""
    names = FeatureNames(CANONICAL_COLUMNS)
    given = [names.give(f"f{i}") for i in range(3000)]
    assert given == [f"f{i}" for i in range(3000)]
