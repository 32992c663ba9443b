"""Events of a synthetic scenario: the journey per session and which features each carries.

Every rule that plants a fault or keeps a control clean lives here, next to the rate it
uses, so that ``docs/GENERATOR.md`` and the ground truth can name it. Each fault is switched
off when the population is drawn without faults (``Population.faults``); the random draws
stay the same, so only the planted rules differ from the faulty scenario of the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from privdiag.generate.timeline import (
    DENIED_AFTER,
    DENIED_NEVER,
    GRANTED,
    UNKNOWN_BEFORE,
    Population,
    grouped_cumsum,
)

# Step codes; session_start is a GA4 housekeeping event outside the journey.
EVENT_NAMES = (
    "session_start",
    "page_view",
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "purchase",
)
SESSION_START, PAGE_VIEW, VIEW_ITEM, ADD_TO_CART, BEGIN_CHECKOUT, PURCHASE = range(6)

# Journey continuation rates per session.
P_VIEW_ITEM = 0.62
P_ADD_TO_CART = 0.38
P_BEGIN_CHECKOUT = 0.62
P_PURCHASE = 0.70
ADS_DENIED_PURCHASE_FACTOR = 0.35  # funnel.consent_drop: web users who denied ads
IDENTITY_LOSS_SHARE = 0.6  # identity.loss: begin_checkout rows on the checkout domain
ITEM_CATEGORY_DENIED = 0.30  # sparsity.consent_gap: kept share at view_item when denied
ITEM_CATEGORY_OK = 0.96
ENGAGEMENT_KEPT = 0.92
CONTENT_GROUP_BEFORE, CONTENT_GROUP_AFTER = 0.95, 0.35  # sparsity.shift at SHIFT_DAY
SHIFT_DAY_FRACTION = 0.7
COUPON_SHARE = 0.2
SEARCH_TERM_SHARE = 0.12
CAMPAIGN_CLICK_SHARE = 0.5
GRACE_GAP_MS = 2_500  # no ordinary event falls within this of a first decision


@dataclass
class Events:
    """One source's events: parallel arrays, ordered by session then time."""

    user: np.ndarray
    session: np.ndarray
    step: np.ndarray
    ts: np.ndarray
    state_analytics: np.ndarray
    state_ads: np.ndarray
    product: np.ndarray
    prompt: np.ndarray  # app: the screen shown right after the consent prompt
    present: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ts)


def _step_counts(rng, pop: Population, sessions: np.ndarray, web: bool) -> np.ndarray:
    n = len(sessions)
    users = pop.sess_user[sessions]
    vi = rng.random(n) < P_VIEW_ITEM
    cart = vi & (rng.random(n) < P_ADD_TO_CART)
    checkout = cart & (rng.random(n) < P_BEGIN_CHECKOUT)

    # Users who denied ads drop out before paying (a planted funnel.consent_drop on web).
    ads_denied = (pop.ads.t1[users] < 2**62) & ~pop.ads.g1[users]
    slower = web & ads_denied & pop.faults
    p_buy = np.where(slower, P_PURCHASE * ADS_DENIED_PURCHASE_FACTOR, P_PURCHASE)
    buy = checkout & (rng.random(n) < p_buy)

    counts = np.zeros((n, 6), dtype=np.int64)
    counts[:, SESSION_START] = 1 if web else 0
    counts[:, PAGE_VIEW] = 1 + rng.poisson(1.5, n)
    counts[:, VIEW_ITEM] = vi * (1 + rng.poisson(0.8, n))
    counts[:, ADD_TO_CART] = cart * (1 + rng.poisson(0.3, n))
    counts[:, BEGIN_CHECKOUT] = checkout
    counts[:, PURCHASE] = buy
    return counts


def _journeys(rng, pop: Population, web: bool) -> tuple[np.ndarray, ...]:
    sessions = np.flatnonzero(pop.is_app[pop.sess_user] != web)
    counts = _step_counts(rng, pop, sessions, web)
    flat = counts.ravel()
    step = np.repeat(np.tile(np.arange(6, dtype=np.int8), len(sessions)), flat)
    session = np.repeat(np.repeat(sessions, 6), flat)
    per_session = counts.sum(axis=1)

    # Events follow each other after 0.5 s + exponential gaps (mean 25 s).
    gaps = 500 + (rng.exponential(25_000.0, len(step))).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(per_session)[:-1]))
    gaps[starts] = 0
    ts = pop.sess_start[session] + grouped_cumsum(gaps, per_session)
    user = pop.sess_user[session]

    # Keep ordinary events clear of the first decision, so lead times are unambiguous.
    t1 = pop.analytics.t1[user]
    late = (pop.sess_number[session] == 0) & (ts >= t1 - GRACE_GAP_MS) & (t1 < 2**62)
    ts = ts + np.where(late, 2 * GRACE_GAP_MS, 0)
    return user, session, step, ts


def _base(rng, pop: Population, web: bool) -> Events:
    user, session, step, ts = _journeys(rng, pop, web)
    prompt = np.zeros(len(ts), dtype=bool)
    if not web:
        # The app shows a screen 50-150 ms after the consent prompt closes (of the users
        # prompted inside the window: on their first visit).
        new = pop.sess_number[pop.first_sess] == 0
        deciders = np.flatnonzero(pop.is_app & pop.decides & new)
        user = np.concatenate((user, deciders))
        session = np.concatenate((session, pop.first_sess[deciders]))
        step = np.concatenate((step, np.full(len(deciders), PAGE_VIEW, dtype=np.int8)))
        ts = np.concatenate((ts, pop.analytics.t1[deciders] + rng.integers(50, 150, len(deciders))))
        prompt = np.concatenate((prompt, np.ones(len(deciders), dtype=bool)))
        order = np.lexsort((ts, session))
        user, session, step, ts, prompt = (a[order] for a in (user, session, step, ts, prompt))
    return Events(
        user=user,
        session=session,
        step=step,
        ts=ts,
        state_analytics=pop.analytics.state(user, ts),
        state_ads=pop.ads.state(user, ts),
        product=rng.integers(0, 40, len(ts)),
        prompt=prompt,
    )


def web_events(rng: np.random.Generator, pop: Population, days: int) -> Events:
    """Return the web (GA4) events with consent flags and feature presence masks."""
    ev = _base(rng, pop, web=True)
    n, step, sa, sd = len(ev), ev.step, ev.state_analytics, ev.state_ads
    r = lambda: rng.random(n)  # noqa: E731

    # Consent Mode advanced: default denied until the banner answer. The web tag never
    # hears of an ads withdrawal made in the CMP (consent.conflict), so it keeps 'Yes'.
    faults = pop.faults
    lost = (step == BEGIN_CHECKOUT) & (r() < IDENTITY_LOSS_SHARE) & faults
    analytics_yes = sa == GRANTED
    ads_yes = (sd == GRANTED) | ((sd == DENIED_AFTER) & faults)
    ev.extra["flag_analytics"] = np.where(lost, -1, analytics_yes.astype(np.int8)).astype(np.int8)
    ev.extra["flag_ads"] = np.where(lost, -1, ads_yes.astype(np.int8)).astype(np.int8)
    ev.extra["lost"] = lost
    identified = analytics_yes & ~lost
    ev.present["user_pseudo_id"] = identified

    shift_ms = int(days * SHIFT_DAY_FRACTION) * 86_400_000
    first_in_session = np.concatenate(([True], ev.session[1:] != ev.session[:-1]))
    landing = (step == PAGE_VIEW) & np.roll(first_in_session, 1)
    view_kept = np.where(analytics_yes | (not faults), ITEM_CATEGORY_OK, ITEM_CATEGORY_DENIED)
    shifted = (ev.ts >= shift_ms) & faults
    ev.present.update(
        page_location=np.ones(n, dtype=bool),
        page_title=np.ones(n, dtype=bool),
        ga_session_id=identified,
        ga_session_number=identified,
        engagement_time_msec=analytics_yes & ~lost & (r() < ENGAGEMENT_KEPT),
        gclid=landing & pop.sess_paid[ev.session] & ads_yes & ~lost,
        item_category=((step == VIEW_ITEM) & (r() < view_kept))
        | ((step == ADD_TO_CART) & (r() < ITEM_CATEGORY_OK)),
        content_group=np.isin(step, (PAGE_VIEW, VIEW_ITEM))
        & (r() < np.where(shifted, CONTENT_GROUP_AFTER, CONTENT_GROUP_BEFORE)),
        coupon=np.isin(step, (BEGIN_CHECKOUT, PURCHASE)) & (r() < COUPON_SHARE),
        search_term=(step == PAGE_VIEW) & (r() < SEARCH_TERM_SHARE),
        value=step >= ADD_TO_CART,
        currency=step >= ADD_TO_CART,
        transaction_id=step == PURCHASE,
    )
    ev.extra["shift_ms"] = np.array([shift_ms])
    return ev


def app_events(rng: np.random.Generator, pop: Population) -> Events:
    """Return the app events with feature presence masks (consent only in the log)."""
    ev = _base(rng, pop, web=False)
    n, sa, sd, faults = len(ev), ev.state_analytics, ev.state_ads, pop.faults
    true_ads = pop.ads.state(ev.user, ev.ts, logged=False)
    ev.present.update(
        screen_name=np.ones(n, dtype=bool),
        app_version=np.ones(n, dtype=bool),
        platform=np.ones(n, dtype=bool),
        # consent.violation: the ad SDK starts on a first 'deny' as if granted.
        advertising_id=(sd == GRANTED) | ((sd == DENIED_NEVER) & faults),
        # consent.after_withdrawal: the attribution SDK ignores a withdrawal.
        appsflyer_id=(sd == GRANTED) | ((sd == DENIED_AFTER) & faults),
        # consent.pre_consent (before the prompt): analytics SDK starts at app launch.
        firebase_instance_id=(sa == GRANTED) | ((sa == UNKNOWN_BEFORE) & faults),
        # consent.pre_consent within the grace window: the deep-link click id is sent
        # right after the prompt, before the skewed server record of the ads decision.
        gclid=ev.prompt & (true_ads == GRANTED),
        campaign_click_id=(sd == GRANTED) & (rng.random(n) < CAMPAIGN_CLICK_SHARE),
        value=ev.step >= ADD_TO_CART,
        currency=ev.step >= ADD_TO_CART,
    )
    return ev
