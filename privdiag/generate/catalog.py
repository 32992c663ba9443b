"""Small catalogs the generator draws from: devices, places, traffic sources, products."""

from __future__ import annotations

DEVICES = [
    {
        "category": "desktop",
        "brand": "Google",
        "model": "Chrome",
        "os": "Windows",
        "os_version": "Windows 10",
        "browser": "Chrome",
        "browser_version": "129.0",
        "w": 0.34,
    },
    {
        "category": "desktop",
        "brand": "Apple",
        "model": "Safari",
        "os": "Macintosh",
        "os_version": "Macintosh Intel 10.15",
        "browser": "Safari",
        "browser_version": "18.0",
        "w": 0.14,
    },
    {
        "category": "desktop",
        "brand": "Microsoft",
        "model": "Edge",
        "os": "Windows",
        "os_version": "Windows 10",
        "browser": "Edge",
        "browser_version": "129.0",
        "w": 0.07,
    },
    {
        "category": "mobile",
        "brand": "Apple",
        "model": "iPhone",
        "os": "iOS",
        "os_version": "iOS 18.0",
        "browser": "Safari",
        "browser_version": "18.0",
        "w": 0.22,
    },
    {
        "category": "mobile",
        "brand": "Samsung",
        "model": "SM-S921B",
        "os": "Android",
        "os_version": "Android 14",
        "browser": "Chrome",
        "browser_version": "129.0",
        "w": 0.12,
    },
    {
        "category": "mobile",
        "brand": "Google",
        "model": "Pixel 8",
        "os": "Android",
        "os_version": "Android 15",
        "browser": "Chrome",
        "browser_version": "129.0",
        "w": 0.06,
    },
    {
        "category": "tablet",
        "brand": "Apple",
        "model": "iPad",
        "os": "iOS",
        "os_version": "iOS 17.6",
        "browser": "Safari",
        "browser_version": "17.6",
        "w": 0.05,
    },
]

GEOS = [
    {
        "continent": "Europe",
        "sub_continent": "Western Europe",
        "country": "Germany",
        "region": "Bavaria",
        "city": "Munich",
        "language": "de",
        "w": 0.22,
    },
    {
        "continent": "Europe",
        "sub_continent": "Western Europe",
        "country": "France",
        "region": "Ile-de-France",
        "city": "Paris",
        "language": "fr",
        "w": 0.16,
    },
    {
        "continent": "Europe",
        "sub_continent": "Northern Europe",
        "country": "United Kingdom",
        "region": "England",
        "city": "London",
        "language": "en-gb",
        "w": 0.18,
    },
    {
        "continent": "Europe",
        "sub_continent": "Southern Europe",
        "country": "Italy",
        "region": "Lombardy",
        "city": "Milan",
        "language": "it",
        "w": 0.10,
    },
    {
        "continent": "Europe",
        "sub_continent": "Southern Europe",
        "country": "Spain",
        "region": "Community of Madrid",
        "city": "Madrid",
        "language": "es",
        "w": 0.09,
    },
    {
        "continent": "Europe",
        "sub_continent": "Western Europe",
        "country": "Netherlands",
        "region": "North Holland",
        "city": "Amsterdam",
        "language": "nl",
        "w": 0.08,
    },
    {
        "continent": "Americas",
        "sub_continent": "Northern America",
        "country": "United States",
        "region": "California",
        "city": "San Jose",
        "language": "en-us",
        "w": 0.12,
    },
    {
        "continent": "Europe",
        "sub_continent": "Northern Europe",
        "country": "Sweden",
        "region": "(not set)",
        "city": "(not set)",
        "language": "sv",
        "w": 0.05,
    },
]

TRAFFIC = [
    {"medium": "organic", "name": "(organic)", "source": "google", "w": 0.38},
    {"medium": "cpc", "name": "autumn_sale", "source": "google", "w": 0.24},
    {"medium": "(none)", "name": "(direct)", "source": "(direct)", "w": 0.22},
    {"medium": "referral", "name": "(referral)", "source": "blog.example.org", "w": 0.08},
    {"medium": "email", "name": "newsletter_w40", "source": "newsletter", "w": 0.08},
]

_CATEGORIES = ["Apparel", "Bags", "Drinkware", "Office", "Lifestyle"]
_NOUNS = ["Hoodie", "Tote", "Bottle", "Notebook", "Cap", "Mug", "Backpack", "Pen"]

PRODUCTS = [
    {
        "item_name": f"Northwind {_NOUNS[i % len(_NOUNS)]} {i // len(_NOUNS) + 1}",
        "item_category": _CATEGORIES[i % len(_CATEGORIES)],
        "price": round(6.0 + (i * 37 % 90) + 0.99, 2),
    }
    for i in range(40)
]


def weights(rows: list[dict]) -> list[float]:
    """Return the normalised draw weights of a catalog (its ``w`` entries)."""
    total = sum(r["w"] for r in rows)
    return [r["w"] / total for r in rows]
