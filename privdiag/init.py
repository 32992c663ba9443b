"""``privdiag init``: a commented starter config inferred from the data."""

from __future__ import annotations

from pathlib import Path

from privdiag.config import Config
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.mapping import BUILTIN_FEATURES, feature_columns

ECOMMERCE_STEPS = ("page_view", "view_item", "add_to_cart", "begin_checkout", "purchase")


def _toml_key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_config(data: list[str], consent: list[str] | None = None) -> str:
    """Return the text of a starter privdiag.toml for the given inputs."""
    con = connect()
    loaded = load(con, data, list(consent or []), Config())
    features = sorted(feature_columns(con))
    names = [
        r[0]
        for r in con.execute(
            "SELECT event_name, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    ]
    con.close()

    steps = [s for s in ECOMMERCE_STEPS if s in names]
    lines = [
        "# privdiag.toml: written by `privdiag init` from "
        + ", ".join(Path(d).name for d in data)
        + ".",
        "# Review every line: which consent a feature needs is a decision for your",
        "# privacy lead, not something privdiag can know.",
        "",
    ]
    lines += [
        "[journey]",
        "# The customer journey, in order. Event names seen most often: " + ", ".join(names[:12]),
        "steps = [" + ", ".join(f'"{s}"' for s in steps) + "]",
        "",
    ]
    lines += [
        "[purposes.aliases]",
        "# Extra CMP vocabulary -> canonical purpose, e.g.",
        '# "Marketing Cookies" = "ads"',
        "",
    ]
    for source in sorted(loaded.formats):
        lines += [
            f"[sources.{_toml_key(source)}]",
            f"# read as {loaded.formats[source]}; who runs this pipeline?",
            'owner = ""',
            "",
        ]
    for feature in features:
        known = BUILTIN_FEATURES.get(feature.lower())
        lines.append(f"[features.{_toml_key(feature)}]")
        if known:
            lines.append("# well-known field: privdiag assumes these purposes")
            lines.append("purposes = [" + ", ".join(f'"{p}"' for p in known) + "]")
        else:
            lines.append(
                "# needs which consent? analytics, ads, ad_user_data, "
                "ad_personalization, personalization, functional, necessary; [] = none"
            )
            lines.append("# purposes = []")
        lines += ['owner = ""', ""]
    lines += ["[thresholds]", 'fail_on = "high"', "grace_seconds = 2.0", "min_group_size = 5", ""]
    return "\n".join(lines)
