"""Report writers: HTML, Markdown, JUnit XML and GitHub Actions output.

Every writer reads result documents (the JSON of ``Result.to_dict()``), merges them with
``merge`` and writes atomically; ``-`` as a path means stdout.
"""

from privdiag.report.github import github_annotations
from privdiag.report.html import write_html
from privdiag.report.junit import write_junit
from privdiag.report.markdown import write_markdown
from privdiag.report.merge import merge

__all__ = ["github_annotations", "merge", "write_html", "write_junit", "write_markdown"]
