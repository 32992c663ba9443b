"""Helpers for the report tests: sample result documents and a headless Chromium runner."""
