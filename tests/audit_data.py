"""Builders for the audit tests: a shop's events for two nights, a consent log, a config.

Night 1 (u1 denied ads, u2 granted ads, u9 never decides):
  u1 page_view + gclid x2, add_to_cart + fbclid x1, purchase + gclid x10; u2 page_view + gclid,
  purchase + coupon; u9 page_view.
Night 2: the add_to_cart leak is fixed (resolved), purchase leaks drop to 4 (better), a new
  view_item leak of 1 (new), page_view leaks stay at 2 (unchanged), and u7, u8 join u9
  without a decision (missing records: users 1 -> 3, worse).
"""

from __future__ import annotations

from pathlib import Path

HEADER = "event_id,ts,event_name,user_id,session_id,gclid,fbclid,coupon"
CONSENT = """user_id,purpose,status,ts,version
u1,ads,denied,2026-10-01T09:00:00Z,v1
u2,ads,granted,2026-10-01T09:00:00Z,v1
"""

NIGHT_1 = [
    ("page_view", "u1", "gclid", 2),
    ("add_to_cart", "u1", "fbclid", 1),
    ("purchase", "u1", "gclid", 10),
    ("page_view", "u2", "gclid", 1),
    ("purchase", "u2", "coupon", 1),
    ("page_view", "u9", None, 1),
]
NIGHT_2 = [
    ("page_view", "u1", "gclid", 2),
    ("view_item", "u1", "gclid", 1),
    ("purchase", "u1", "gclid", 4),
    ("page_view", "u2", "gclid", 1),
    ("purchase", "u2", "coupon", 1),
    ("page_view", "u7", None, 1),
    ("page_view", "u8", None, 1),
    ("page_view", "u9", None, 1),
]

CONFIG = """
[sources.shop]
paths = ["data/shop.csv"]

[consent]
paths = ["data/cmp.csv"]

[features.gclid]
purposes = ["ads"]

[features.fbclid]
purposes = ["ads"]

[thresholds]
min_group_size = 1
{extra}
"""


def events_csv(night: list[tuple[str, str, str | None, int]]) -> str:
    """Return the events CSV text of one night: one row per event, a feature value or none."""
    lines = [HEADER]
    n = 0
    for step, user, feature, count in night:
        for _ in range(count):
            n += 1
            values = {
                f: (f"{f[:1].upper()}{n}" if f == feature else "")
                for f in ("gclid", "fbclid", "coupon")
            }
            ts = f"2026-10-01T10:{n // 60:02d}:{n % 60:02d}Z"
            lines.append(
                f"e{n},{ts},{step},{user},s-{user},{values['gclid']},{values['fbclid']},"
                f"{values['coupon']}"
            )
    return "\n".join(lines) + "\n"


def setup(folder: Path, night: list[tuple[str, str, str | None, int]], extra: str = "") -> Path:
    """Write the data of ``night`` and the config into ``folder``; return the config path."""
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "shop.csv").write_text(events_csv(night), encoding="utf-8")
    (folder / "data" / "cmp.csv").write_text(CONSENT, encoding="utf-8")
    config = folder / "privdiag.toml"
    config.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return config
