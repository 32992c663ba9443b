"""The ground truth of a scenario (planted faults, clean controls) and its config file."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from privdiag.generate import events as E
from privdiag.generate.timeline import (
    DAY_MS,
    DENIED_AFTER,
    DENIED_NEVER,
    NEVER,
    UNKNOWN_BEFORE,
    Population,
)


def _count(ev: E.Events, mask: np.ndarray) -> dict[str, int]:
    return {"events": int(mask.sum()), "users": int(len(np.unique(ev.user[mask])))}


def _share(mask: np.ndarray, within: np.ndarray) -> float:
    return round(float(mask[within].mean()) if within.any() else 0.0, 3)


def _optin(pop: Population, purpose: str, start: date) -> dict:
    p = getattr(pop, purpose)
    decided = p.t1 < NEVER
    v2 = p.t1 >= pop.change_ms
    when = start + timedelta(days=pop.change_ms // DAY_MS)
    return {
        "kind": "people.optin_drop",
        "location": {"purpose": purpose},
        "note": f"notice v2 from {when.isoformat()} lowers first-decision opt-in",
        "metrics": {
            "optin_v1": _share(p.g1, decided & ~v2),
            "optin_v2": _share(p.g1, decided & v2),
        },
    }


def _web_faults(pop: Population, web: E.Events, start: date) -> list[dict]:
    step, present = web.step, web.present
    analytics_yes = web.extra["flag_analytics"] == 1
    denied = web.extra["flag_analytics"] == 0
    identified = present["user_pseudo_id"]
    view = step == E.VIEW_ITEM
    shift_day = start + timedelta(days=int(web.extra["shift_ms"][0] // DAY_MS))
    checkout = step == E.BEGIN_CHECKOUT

    return [
        {
            "kind": "consent.conflict",
            "location": {"source": "web", "purpose": "ads"},
            "note": "ads withdrawn in the CMP, web events keep privacy_info.ads_storage='Yes'",
            "metrics": _count(web, identified & (web.state_ads == DENIED_AFTER)),
        },
        {
            "kind": "sparsity.consent_gap",
            "location": {
                "source": "web",
                "step": "view_item",
                "feature": "item_category",
                "purpose": "analytics",
            },
            "note": "item_category (needs only 'necessary') is dropped at view_item when "
            "analytics is denied",
            "metrics": {
                "present_granted": _share(present["item_category"], view & analytics_yes),
                "present_denied": _share(present["item_category"], view & denied),
            },
        },
        {
            "kind": "sparsity.consent_gap",
            "location": {
                "source": "web",
                "feature": "engagement_time_msec",
                "purpose": "analytics",
            },
            "note": "unmapped feature dropped at every step when analytics is denied",
            "metrics": {
                "present_granted": _share(present["engagement_time_msec"], analytics_yes),
                "present_denied": _share(present["engagement_time_msec"], denied),
            },
        },
        {
            "kind": "sparsity.shift",
            "location": {"source": "web", "feature": "content_group"},
            "note": f"tag change on {shift_day.isoformat()}: missing share jumps",
            "metrics": {
                "date": shift_day.isoformat(),
                "missing_before": round(1 - E.CONTENT_GROUP_BEFORE, 3),
                "missing_after": round(1 - E.CONTENT_GROUP_AFTER, 3),
            },
        },
        {
            "kind": "identity.loss",
            "location": {"source": "web", "step": "begin_checkout"},
            "note": "checkout domain without cookie or consent state: cookieless rows",
            "metrics": {
                "null_user_share_at_step": _share(~identified, checkout),
                "null_user_share_elsewhere": _share(~identified, ~checkout),
            },
        },
        _funnel_fault(pop, web, identified),
        {
            "kind": "people.unclassified_feature",
            "location": {"source": "web", "feature": "engagement_time_msec"},
            "note": "no [features.engagement_time_msec] in the config",
        },
        {
            "kind": "people.unclassified_feature",
            "location": {"source": "web", "feature": "search_term"},
            "note": "no [features.search_term] in the config",
        },
    ]


def _funnel_fault(pop: Population, web: E.Events, identified: np.ndarray) -> dict:
    """Add-to-cart -> purchase per identified user, by the user's first ads decision."""
    step, users = web.step, web.user
    carted = np.zeros(pop.n, bool)
    carted[users[(step == E.ADD_TO_CART) & identified]] = True
    bought = np.zeros(pop.n, bool)
    bought[users[(step == E.PURCHASE) & identified]] = True
    ads_denied = (pop.ads.t1 < NEVER) & ~pop.ads.g1
    ads_granted = (pop.ads.t1 < NEVER) & pop.ads.g1
    return {
        "kind": "funnel.consent_drop",
        "location": {"source": "web", "step": "purchase", "purpose": "ads"},
        "note": "users who denied ads buy less after begin_checkout",
        "metrics": {
            "cart_to_purchase_ads_granted": _share(bought, carted & ads_granted),
            "cart_to_purchase_ads_denied": _share(bought, carted & ads_denied),
        },
    }


def _app_faults(pop: Population, app: E.Events) -> list[dict]:
    present, sa, sd = app.present, app.state_analytics, app.state_ads
    lead_ms = pop.ads.logged_t1[app.user] - app.ts
    within = present["gclid"] & (sd == UNKNOWN_BEFORE)
    before = present["firebase_instance_id"] & (sa == UNKNOWN_BEFORE)
    lead_before = pop.analytics.logged_t1[app.user] - app.ts
    no_record = pop.is_app & ~pop.decides
    return [
        {
            "kind": "consent.violation",
            "location": {"source": "app", "feature": "advertising_id", "purpose": "ads"},
            "note": "ad SDK collects advertising_id although ads was denied (never granted)",
            "metrics": _count(app, present["advertising_id"] & (sd == DENIED_NEVER)),
        },
        {
            "kind": "consent.after_withdrawal",
            "location": {"source": "app", "feature": "appsflyer_id", "purpose": "ads"},
            "note": "attribution SDK keeps collecting after the user withdrew ads",
            "metrics": _count(app, present["appsflyer_id"] & (sd == DENIED_AFTER)),
        },
        {
            "kind": "consent.pre_consent",
            "location": {
                "source": "app",
                "feature": "firebase_instance_id",
                "purpose": "analytics",
            },
            "note": "analytics SDK starts at launch, before the consent prompt (beyond grace)",
            "metrics": _count(app, before)
            | {
                "min_lead_s": round(float(lead_before[before].min()) / 1000, 3)
                if before.any()
                else None
            },
        },
        {
            "kind": "consent.pre_consent",
            "location": {"source": "app", "feature": "gclid", "purpose": "ads"},
            "note": "clock skew: ads record logged 0.3-1.6 s after the event (within grace)",
            "metrics": _count(app, within)
            | {
                "max_lead_s": round(float(lead_ms[within].max()) / 1000, 3)
                if within.any()
                else None
            },
        },
        {
            "kind": "consent.missing_record",
            "location": {"source": "app"},
            "note": "app users never shown the consent prompt",
            "metrics": {"users": int(no_record.sum()), "share": _share(no_record, pop.is_app)},
        },
        {
            "kind": "people.unowned",
            "location": {"source": "app"},
            "note": "[sources.app] has no owner",
        },
    ]


CONTROLS = [
    {
        "source": "web",
        "feature": "coupon",
        "note": "empty on ~80% of begin_checkout/purchase events whatever the consent",
    },
    {
        "source": "web",
        "feature": "gclid",
        "note": "needs ads; sent only while privacy_info.ads_storage is 'Yes'",
    },
    {
        "source": "app",
        "feature": "campaign_click_id",
        "note": "needs ads; sent only after an ads grant in the log, never when denied",
    },
    {"source": "web", "feature": "page_location", "note": "mapped, present on every event"},
    {"source": "app", "feature": "screen_name", "note": "mapped, present on every event"},
]


def ground_truth(pop: Population, web: E.Events, app: E.Events, start: date) -> dict:
    """Return the planted faults (kind, location, note, metrics) and the clean controls; a
    scenario drawn without faults plants none."""
    if not pop.faults:
        return {"faults": [], "controls": CONTROLS}
    faults = _web_faults(pop, web, start) + _app_faults(pop, app)
    faults += [_optin(pop, "analytics", start), _optin(pop, "ads", start)]
    return {"faults": faults, "controls": CONTROLS}


_FEATURES = [
    ("gclid", "ads", "paid-media"),
    ("page_location", "necessary", "web-analytics"),
    ("page_title", "necessary", "web-analytics"),
    ("item_category", "necessary", "merchandising"),
    ("content_group", "necessary", "web-analytics"),
    ("coupon", "necessary", "ecommerce"),
    ("value", "necessary", "ecommerce"),
    ("currency", "necessary", "ecommerce"),
    ("transaction_id", "necessary", "ecommerce"),
    ("screen_name", "necessary", "mobile-platform"),
    ("app_version", "necessary", "mobile-platform"),
    ("platform", "necessary", "mobile-platform"),
    ("advertising_id", "ads", "mobile-platform"),
    ("appsflyer_id", "ads", "growth"),
    ("firebase_instance_id", "analytics", "mobile-platform"),
    ("campaign_click_id", "ads", "paid-media"),
]


# What a clean scenario's config adds: the features and the owner the faulty one leaves out.
_CLEAN_FEATURES = [
    ("engagement_time_msec", "analytics", "web-analytics"),
    ("search_term", "necessary", "web-analytics"),
]


def config_toml(paths: dict[str, str], seed: int, faults: bool = True) -> str:
    """Return the scenario's privdiag.toml: with ``faults``, engagement_time_msec and
    search_term unmapped and [sources.app] without an owner; without, all of them set."""
    if faults:
        header = [
            f"# privdiag config of a generated scenario (seed {seed}).",
            "# Deliberate gaps: engagement_time_msec and search_term are not mapped, and",
            "# [sources.app] has no owner.",
        ]
    else:
        header = [f"# privdiag config of a generated scenario without faults (seed {seed})."]
    lines = [
        *header,
        "",
        "[journey]",
        'steps = ["page_view", "view_item", "add_to_cart", "begin_checkout", "purchase"]',
        "",
        "[purposes.aliases]",
        '"Ad Tracking" = "ads"',
        "",
        "[consent]",
        f'paths = ["{paths["consent"]}"]',
        "",
        "[sources.web]",
        'owner = "web-analytics"',
        'format = "ga4"',
        f'paths = ["{paths["web"]}"]',
        "",
        "[sources.app]",
        *([] if faults else ['owner = "mobile-platform"']),
        'format = "generic"',
        f'paths = ["{paths["app"]}"]',
    ]
    for name, purpose, owner in _FEATURES + ([] if faults else _CLEAN_FEATURES):
        lines += ["", f"[features.{name}]", f'purposes = ["{purpose}"]', f'owner = "{owner}"']
    lines += ["", "[thresholds]", 'fail_on = "high"', "grace_seconds = 2.0", "min_group_size = 5"]
    return "\n".join(lines) + "\n"
