"""Fixtures shared by the test modules under tests/.

``built_site``: one ``mkdocs build --strict`` of the real site per test run, into a folder named
as the path of ``site_url`` (``<tmp>/llm-study``), so that a server of its parent folder serves
the published URLs. test_site.py, test_links.py and test_browser.py read it; none writes to it.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The path the site is published under (site_url's path, "/llm-study/").
BASE_PATH = urlsplit(re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(), re.M).group(1)).path


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real site, built once with ``mkdocs build --strict``; fails the tests that use it if the build fails."""
    from test_site import build

    site = tmp_path_factory.mktemp("site") / BASE_PATH.strip("/")
    result = build(ROOT, site)
    assert result.returncode == 0, "mkdocs build --strict failed:\n" + result.stdout + result.stderr
    return site
