"""How privdiag opens its DuckDB connection: settings every scan relies on."""

from __future__ import annotations

from privdiag.engine import close, connect


def test_duckdb_draws_no_progress_bar_of_its_own():
    """DuckDB drew a bar for a query of over 2 s across the CLI's progress line, and into
    stdout where a report was piped."""
    con = connect()
    try:
        setting = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
        zone = con.execute("SELECT current_setting('TimeZone')").fetchone()
    finally:
        close(con)
    assert setting == (False,)
    assert zone == ("UTC",)
