"""Write web events as a GA4 BigQuery export (nested columns), built in DuckDB SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from privdiag.generate.catalog import DEVICES, GEOS, PRODUCTS, TRAFFIC
from privdiag.generate.events import EVENT_NAMES, Events

_VALUE = "STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, double_value DOUBLE)"
_NULL_VALUE = {"string": "NULL::VARCHAR", "int": "NULL::BIGINT", "double": "NULL::DOUBLE"}


def _param(key: str, kind: str, expr: str) -> str:
    parts = dict(_NULL_VALUE)
    parts[kind] = expr
    value = (
        f"{{'string_value': {parts['string']}, 'int_value': {parts['int']}, "
        f"'float_value': NULL::DOUBLE, 'double_value': {parts['double']}}}"
    )
    return f"CASE WHEN has_{key} THEN {{'key': '{key}', 'value': {value}}} END"


_PARAMS = [
    ("page_location", "string", "page_location"),
    ("page_title", "string", "page_title"),
    ("ga_session_id", "int", "session_start_s"),
    ("ga_session_number", "int", "session_number + 1"),
    ("engagement_time_msec", "int", "engagement_ms"),
    ("gclid", "string", "'Cj0KCQ' || upper(substr(md5(event_seq::VARCHAR || 'g'), 1, 20))"),
    ("item_category", "string", "item_category"),
    ("content_group", "string", "content_group"),
    ("coupon", "string", "'AUTUMN' || (product % 3 + 10)::VARCHAR"),
    ("search_term", "string", "item_category"),
    ("value", "double", "price"),
    ("currency", "string", "'USD'"),
    ("transaction_id", "string", "'T' || lpad(event_seq::VARCHAR, 9, '0')"),
]

_ITEM = (
    "{'item_id': item_id, 'item_name': item_name, 'item_brand': 'Northwind', "
    "'item_variant': '(not set)', 'item_category': item_category, 'price_in_usd': price, "
    "'price': price, 'quantity': 1::BIGINT, 'item_revenue_in_usd': "
    "CASE WHEN step = 5 THEN price END, 'item_revenue': CASE WHEN step = 5 THEN price END, "
    "'coupon': NULL::VARCHAR, 'affiliation': '(not set)', 'item_list_name': '(not set)'}"
)

_ECOMMERCE = ", ".join(
    f"'{name}': CASE WHEN step = 5 THEN {expr} END"
    for name, expr in [
        ("total_item_quantity", "1::BIGINT"),
        ("purchase_revenue_in_usd", "price"),
        ("purchase_revenue", "price"),
        ("refund_value_in_usd", "NULL::DOUBLE"),
        ("refund_value", "NULL::DOUBLE"),
        ("shipping_value_in_usd", "4.99"),
        ("shipping_value", "4.99"),
        ("tax_value_in_usd", "round(price * 0.2, 2)"),
        ("tax_value", "round(price * 0.2, 2)"),
        ("unique_items", "1::BIGINT"),
        ("transaction_id", "'T' || lpad(event_seq::VARCHAR, 9, '0')"),
    ]
)


def _flag(col: str) -> str:
    return f"CASE {col} WHEN 1 THEN 'Yes' WHEN 0 THEN 'No' END"


def _select_sql() -> str:
    params = ",\n      ".join(_param(k, kind, e) for k, kind, e in _PARAMS)
    names = ", ".join(f"'{n}'" for n in EVENT_NAMES)
    return f"""
    SELECT
      strftime(make_timestamp(ts_us), '%Y%m%d') AS event_date,
      ts_us AS event_timestamp,
      [{names}][step + 1] AS event_name,
      list_filter([
      {params}
      ], lambda p: p IS NOT NULL) AS event_params,
      NULL::BIGINT AS event_previous_timestamp,
      CASE WHEN step = 5 THEN price END AS event_value_in_usd,
      bundle AS event_bundle_sequence_id,
      NULL::BIGINT AS event_server_timestamp_offset,
      NULL::VARCHAR AS user_id,
      CASE WHEN has_user_pseudo_id THEN pseudo_id END AS user_pseudo_id,
      {{'analytics_storage': {_flag("flag_analytics")}, 'ads_storage': {_flag("flag_ads")},
        'uses_transient_token': 'No'}} AS privacy_info,
      CAST([] AS STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT,
        float_value DOUBLE, double_value DOUBLE, set_timestamp_micros BIGINT))[])
        AS user_properties,
      CASE WHEN has_user_pseudo_id THEN first_touch_us END AS user_first_touch_timestamp,
      CASE WHEN has_user_pseudo_id THEN {{'revenue': 0.0, 'currency': 'USD'}} END AS user_ltv,
      {{'category': d_category, 'mobile_brand_name': d_brand, 'mobile_model_name': d_model,
        'mobile_marketing_name': '<Other>', 'mobile_os_hardware_model': NULL::VARCHAR,
        'operating_system': d_os, 'operating_system_version': d_os_version,
        'vendor_id': NULL::VARCHAR, 'advertising_id': NULL::VARCHAR, 'language': g_language,
        'is_limited_ad_tracking': 'No', 'time_zone_offset_seconds': NULL::BIGINT,
        'web_info': {{'browser': d_browser, 'browser_version': d_browser_version}}}} AS device,
      {{'continent': g_continent, 'sub_continent': g_sub_continent, 'country': g_country,
        'region': g_region, 'city': g_city, 'metro': '(not set)'}} AS geo,
      NULL::STRUCT(id VARCHAR, version VARCHAR, install_store VARCHAR,
        firebase_app_id VARCHAR, install_source VARCHAR) AS app_info,
      {{'medium': t_medium, 'name': t_name, 'source': t_source}} AS traffic_source,
      4_100_333_201 AS stream_id,
      'WEB' AS platform,
      NULL::STRUCT(hostname VARCHAR) AS event_dimensions,
      {{{_ECOMMERCE}}} AS ecommerce,
      list_filter([CASE WHEN step >= 2 THEN {_ITEM} END], lambda i: i IS NOT NULL) AS items
    FROM ev
    """


def _event_table(ev: Events, base_ms: int, sess: dict[str, np.ndarray]) -> pa.Table:
    rng_us = np.random.default_rng(len(ev)).integers(0, 1000, len(ev))
    cols = {
        "event_seq": np.arange(len(ev), dtype=np.int64),
        "ts_us": (base_ms + ev.ts) * 1000 + rng_us,
        "step": ev.step,
        "product": ev.product,
        "session_start_s": (base_ms + sess["start"][ev.session]) // 1000,
        "session_number": sess["number"][ev.session],
        "engagement_ms": 200 + (ev.ts * 7919) % 40_000,
        "bundle": 1_000_000 + ev.ts // 10,
        "flag_analytics": ev.extra["flag_analytics"],
        "flag_ads": ev.extra["flag_ads"],
        "uid": ev.user,
    }
    table = pa.table(cols)
    for name, mask in ev.present.items():
        table = table.append_column(f"has_{name}", pa.array(mask))
    return table


def _catalog_columns(prefix: str, rows: list[dict], index: np.ndarray) -> dict[str, pa.Array]:
    idx = pa.array(index)
    return {
        f"{prefix}_{name}": pa.array([r[name] for r in rows]).take(idx)
        for name in rows[0]
        if name != "w"
    }


def _user_columns(con: duckdb.DuckDBPyConnection, user: np.ndarray) -> dict[str, pa.Array]:
    users = con.sql("SELECT * FROM users ORDER BY uid").to_arrow_table()
    idx = pa.array(user)
    cols = {
        "pseudo_id": users["pseudo_id"].take(idx),
        "first_touch_us": users["first_touch_us"].take(idx),
    }
    for prefix, rows, key in (
        ("d", DEVICES, "device"),
        ("g", GEOS, "geo"),
        ("t", TRAFFIC, "traffic"),
    ):
        cols |= _catalog_columns(prefix, rows, users[key].to_numpy()[user])
    return cols


def write_ga4(
    con: duckdb.DuckDBPyConnection,
    ev: Events,
    sess: dict[str, np.ndarray],
    base_ms: int,
    path: Path,
    fmt: str,
) -> None:
    """Write ``ev`` to ``path`` as GA4 export rows: NDJSON (gzip) or Parquet, nested columns.

    Assumes the temp table ``users`` (uid, pseudo_id, first_touch_us, device, geo, traffic).
    """
    table = _event_table(ev, base_ms, sess)
    for name, col in _user_columns(con, ev.user).items():
        table = table.append_column(name, col)
    products = _catalog_columns("p", PRODUCTS, ev.product)
    for name, col in products.items():
        table = table.append_column(name, col)
    # Rows leave in time order: sorted here, so DuckDB needs no ORDER BY (insertion order kept).
    order = np.lexsort((table["event_seq"].to_numpy(), table["ts_us"].to_numpy()))
    con.register("ev_src", table.take(pa.array(order)))
    con.execute(
        """CREATE OR REPLACE TEMP VIEW ev AS SELECT e.*,
        'SKU_' || lpad(product::VARCHAR, 5, '0') AS item_id, p_item_name AS item_name,
        p_item_category AS item_category, p_price AS price,
        CASE WHEN product % 2 = 0 THEN p_item_category || ' / ' || p_item_name
          ELSE p_item_category END AS content_group,
        CASE step WHEN 0 THEN 'https://shop.example.com/'
          WHEN 1 THEN 'https://shop.example.com/' || lower(replace(p_item_category, ' ', '-'))
          WHEN 2 THEN 'https://shop.example.com/product/SKU_' || lpad(product::VARCHAR, 5, '0')
          WHEN 3 THEN 'https://shop.example.com/cart'
          WHEN 4 THEN 'https://checkout.example.com/pay'
          ELSE 'https://shop.example.com/order/confirmed' END AS page_location,
        CASE step WHEN 2 THEN p_item_name || ' | Northwind Store'
          WHEN 1 THEN p_item_category || ' | Northwind Store'
          WHEN 3 THEN 'Cart | Northwind Store' WHEN 4 THEN 'Checkout | Northwind Store'
          WHEN 5 THEN 'Thank you | Northwind Store' ELSE 'Home | Northwind Store' END
          AS page_title
        FROM ev_src e"""
    )
    sql = _select_sql()
    if fmt == "parquet":
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT PARQUET, COMPRESSION zstd)")
    else:
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT JSON, COMPRESSION gzip)")
