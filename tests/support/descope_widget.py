"""Descope's own outbound-applications widget, from npm, on a plain HTML page served on loopback.

``widget_packages()`` fetches the two published packages with ``npm pack`` (pinned versions,
integrity checked by npm) into a cache folder outside the git tree (``OUTBOUND_NPM_CACHE``, else
``~/.cache/outbound-dashboard/npm``) and unpacks them once. ``start_widget_site`` serves:

* ``/widget.html``: the page of the README section "Use Descope's widget against the local
  broker", read from README.md, with the broker URL, project id and this site as
  ``base-cdn-url`` in place of the README's values;
* ``/widget/index.js``: the widget's self-contained build (``dist/index.js``);
* ``/npm/@descope/web-components-ui@<version>/dist/umd/…``: the UI components, laid out as on
  Descope's CDNs, so the widget's ``base-cdn-url`` points at this site and nothing is fetched
  from the internet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from broker.outbound.widget_routes import COMPONENTS_VERSION
from tests.support.servers import ThreadedServer

WIDGET_PACKAGE = "@descope/outbound-applications-widget"
WIDGET_VERSION = "0.6.2"
UI_PACKAGE = "@descope/web-components-ui"
WIDGET_ID = "outbound-apps"
CACHE_ENV = "OUTBOUND_NPM_CACHE"

README = Path(__file__).resolve().parents[2] / "README.md"
README_SECTION = "## Use Descope's widget against the local broker"
# The values the README's page has, and what the test site puts in their place.
README_PROJECT_ID = 'project-id="YOUR_LOCAL_PROJECT_ID"'
README_BROKER = 'base-url="http://127.0.0.1:8787"'
README_CDN = 'base-cdn-url="http://127.0.0.1:8000/"'
README_WIDGET_JS = '<script src="/widget/index.js"></script>'


def _cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache/outbound-dashboard/npm"


def _unpacked(package: str, version: str) -> Path:
    """``<cache>/<package>@<version>/package``, fetched with ``npm pack`` the first time."""
    target = _cache_root() / f"{package.replace('/', '+')}@{version}"
    if (target / "package" / "package.json").exists():
        return target / "package"
    npm = shutil.which("npm")
    if npm is None:  # CI installs nodejs and npm (.ci/run); a skip is red there.
        pytest.skip("npm is not installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        packed = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout.split()[-1]
        staging = Path(tmp) / "unpacked"
        with tarfile.open(Path(tmp) / packed) as archive:
            archive.extractall(staging, filter="data")
        staging.replace(target)  # atomic: a half-unpacked folder is never seen as done
    return target / "package"


@dataclass(frozen=True)
class WidgetPackages:
    """The unpacked widget and UI components packages."""

    widget_dist: Path
    components_umd: Path


def widget_packages() -> WidgetPackages:
    """Both packages at their pinned versions (npm, cached outside the repository)."""
    widget = _unpacked(WIDGET_PACKAGE, WIDGET_VERSION)
    components = _unpacked(UI_PACKAGE, COMPONENTS_VERSION)
    return WidgetPackages(widget / "dist", components / "dist" / "umd")


def readme_page() -> str:
    """The HTML snippet of the README's widget section, as printed there."""
    section = README.read_text("utf-8").split(README_SECTION, 1)[1]
    return section.split("```html\n", 1)[1].split("```", 1)[0]


def widget_page(*, project_id: str, broker_url: str, cdn_url: str) -> str:
    """The README's page with the test's project, broker and CDN in place of its values."""
    page = readme_page()
    for shown in (README_PROJECT_ID, README_BROKER, README_CDN, README_WIDGET_JS):
        assert page.count(shown) == 1, f"the README's page no longer has {shown}"
    return (
        page.replace(README_PROJECT_ID, f'project-id="{project_id}"')
        .replace(README_BROKER, f'base-url="{broker_url}"')
        .replace(README_CDN, f'base-cdn-url="{cdn_url}"')
    )


def start_widget_site(
    packages: WidgetPackages, *, project_id: str, broker_url: str, port: int
) -> ThreadedServer:
    """A loopback site on ``port`` with the page, the widget and the UI components."""
    site = FastAPI()
    server = ThreadedServer(site, port=port)
    page = widget_page(
        project_id=project_id,
        broker_url=broker_url,
        cdn_url=server.url + "/",
    )

    @site.get("/widget.html", response_class=HTMLResponse)
    def _page() -> str:
        return page

    site.mount("/widget", StaticFiles(directory=packages.widget_dist))  # the README's /widget/
    site.mount(
        f"/npm/{UI_PACKAGE}@{COMPONENTS_VERSION}/dist/umd",
        StaticFiles(directory=packages.components_umd),
    )
    return server.start()
