"""Write the app events (generic flat format) and the consent records CSV."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from privdiag.generate.events import EVENT_NAMES, Events
from privdiag.generate.timeline import NEVER, Population

ISO = "strftime(make_timestamp(({})::BIGINT * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')"

# Words the two CMPs write for a purpose; 'Ad Tracking' needs the config alias.
VOCAB = {
    ("web", "analytics"): ["C0002", "C0002", "analytics_storage", "Analytics"],
    ("web", "ads"): ["C0004", "C0004", "ad_storage", "Marketing"],
    ("app", "analytics"): ["Statistics", "analytics", "Performance"],
    ("app", "ads"): ["Marketing", "advertising", "Ad Tracking"],
}

_SCREENS = ["home", "category", "product", "cart", "checkout", "order_confirmed"]

_APP_FEATURES = {
    "screen_name": f"{_SCREENS}[step + 1]".replace('"', "'"),
    "app_version": "CASE WHEN ts_ms < {shift} THEN '5.3.1' ELSE '5.4.0' END",
    "platform": "CASE WHEN u_device % 2 = 0 THEN 'ios' ELSE 'android' END",
    "advertising_id": "upper(substr(md5(u_key || ':ad'), 1, 8) || '-' || "
    "substr(md5(u_key || ':ad'), 9, 4) || '-4' || substr(md5(u_key || ':ad'), 13, 3) || '-a' "
    "|| substr(md5(u_key || ':ad'), 16, 3) || '-' || substr(md5(u_key || ':ad'), 19, 12))",
    "appsflyer_id": "u_first_touch_us // 1000 || '-' || substr(md5(u_key || ':af'), 1, 19)",
    "firebase_instance_id": "substr(md5(u_key || ':fi'), 1, 22)",
    "gclid": "'Cj0KCQ' || upper(substr(md5(event_seq::VARCHAR || ':gc'), 1, 20))",
    "campaign_click_id": "'cc_' || substr(md5(u_key || session::VARCHAR), 1, 16)",
    "value": "round(6.99 + (product * 37) % 90, 2)",
    "currency": "'USD'",
}


def write_app(
    con: duckdb.DuckDBPyConnection, ev: Events, seed: int, base_ms: int, path: Path, fmt: str
) -> None:
    """Write the app events as generic rows (event_id, ts, event_name, user_id, ...)."""
    cols = {
        "event_seq": np.arange(len(ev), dtype=np.int64),
        "ts_ms": base_ms + ev.ts,
        "step": ev.step,
        "uid": ev.user,
        "session": ev.session,
        "product": ev.product,
    } | {f"has_{k}": v for k, v in ev.present.items()}
    table = pa.table(cols)
    users = con.sql("SELECT key, device, first_touch_us FROM users ORDER BY uid").to_arrow_table()
    for name in users.column_names:
        table = table.append_column(f"u_{name}", users[name].take(pa.array(ev.user)))
    # Rows leave in time order: sorted here, so DuckDB needs no ORDER BY (insertion order kept).
    order = np.lexsort((cols["event_seq"], cols["ts_ms"]))
    con.register("app_src", table.take(pa.array(order)))
    names = ", ".join(f"'{n}'" for n in EVENT_NAMES)
    shift = base_ms + 14 * 86_400_000
    features = ",\n".join(
        f"CASE WHEN has_{name} THEN {expr.format(shift=shift)} END AS {name}"
        for name, expr in _APP_FEATURES.items()
    )
    sql = f"""SELECT
      substr(md5('{seed}:e:' || event_seq::VARCHAR), 1, 16) AS event_id,
      {ISO.format("ts_ms")} AS ts,
      [{names}][step + 1] AS event_name,
      u_key AS user_id,
      'dev-' || substr(md5(u_key || ':dev'), 1, 16) AS anonymous_id,
      substr(md5('{seed}:s:' || session::VARCHAR), 1, 12) AS session_id,
      {features}
    FROM app_src"""
    options = {"csv": "FORMAT CSV, HEADER", "parquet": "FORMAT PARQUET", "ndjson": "FORMAT JSON"}
    con.execute(f"COPY ({sql}) TO '{path}' ({options[fmt]})")


def _records(rng: np.random.Generator, pop: Population, purpose: str) -> dict[str, np.ndarray]:
    p = getattr(pop, purpose)
    users = np.arange(pop.n)
    first = p.logged_t1 < NEVER
    second = p.t2 < NEVER
    uid = np.concatenate((users[first], users[second]))
    ts = np.concatenate((p.logged_t1[first], p.t2[second]))
    granted = np.concatenate((p.g1[first], p.g2[second]))
    is_app = pop.is_app[uid]
    vocab_web, vocab_app = VOCAB[("web", purpose)], VOCAB[("app", purpose)]
    pick = rng.random(len(uid))
    label = np.where(
        is_app,
        np.array(vocab_app)[(pick * len(vocab_app)).astype(int)],
        np.array(vocab_web)[(pick * len(vocab_web)).astype(int)],
    )
    return {"uid": uid, "ts_ms": ts, "granted": granted, "label": label, "is_app": is_app}


def write_consent(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    pop: Population,
    base_ms: int,
    path: Path,
) -> int:
    """Write the consent records CSV; return the number of records."""
    parts = [_records(rng, pop, purpose) for purpose in ("analytics", "ads")]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    con.register("consent_src", pa.table(cols))
    sql = f"""SELECT u.key AS user_id, label AS purpose,
        CASE WHEN granted THEN 'granted' ELSE 'denied' END AS status,
        {ISO.format(f"ts_ms + {base_ms}")} AS ts,
        CASE WHEN ts_ms >= {pop.change_ms} THEN 'v2' ELSE 'v1' END AS version,
        CASE WHEN c.is_app THEN 'app' ELSE 'web' END AS source
      FROM consent_src c JOIN users u USING (uid)
      ORDER BY ts_ms, user_id, purpose"""
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT CSV, HEADER)")
    return len(cols["uid"])
