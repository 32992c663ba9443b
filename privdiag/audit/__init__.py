"""``privdiag audit``: scheduled runs with a history, diffs against earlier runs, and trends.

- :mod:`privdiag.audit.settings` reads the ``[audit]`` table of the config;
- :mod:`privdiag.audit.lock` keeps two audits from overlapping;
- :mod:`privdiag.audit.history` reads and writes the history DuckDB file, and
  :mod:`privdiag.audit.schema` says what the file must be (schema version, migrations);
- :mod:`privdiag.audit.diff` says what is new, unchanged, worse, better or resolved;
- :mod:`privdiag.audit.trends` picks the key measures of a run and draws their series;
- :mod:`privdiag.audit.run` runs one audit end to end.
"""

from __future__ import annotations
