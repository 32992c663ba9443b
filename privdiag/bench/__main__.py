"""``python -m privdiag.bench``: see :mod:`privdiag.bench`."""

from privdiag.bench import main

main()
