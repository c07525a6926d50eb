"""Descope's own outbound-applications widget, from npm, on a plain HTML page served on loopback.

``widget_packages()`` fetches the two published packages with ``npm pack`` (pinned versions,
integrity checked by npm) into a cache folder outside the git tree (``OUTBOUND_NPM_CACHE``, else
``~/.cache/outbound-dashboard/npm``) and unpacks them once. ``start_widget_site`` serves:

* ``/widget.html``: the page of the README section "Use Descope's widget against the local
  broker", filled in with the broker URL, project id and this site as ``base-cdn-url``;
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
from string import Template

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

# The README's snippet (README.md, "Use Descope's widget against the local broker"), verbatim
# but for the three values a page fills in.
PAGE = Template("""<!doctype html>
<html>
  <head>
    <meta charset="utf-8">
    <title>My outbound apps</title>
    <script src="$widget_js"></script>
  </head>
  <body>
    <descope-outbound-applications-widget
      project-id="$project_id"
      base-url="$broker_url"
      base-cdn-url="$cdn_url"
      widget-id="outbound-apps"
      theme="light"
    ></descope-outbound-applications-widget>
  </body>
</html>
""")


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


def widget_page(*, widget_js: str, project_id: str, broker_url: str, cdn_url: str) -> str:
    """The README's HTML page with its values filled in."""
    return PAGE.substitute(
        widget_js=widget_js, project_id=project_id, broker_url=broker_url, cdn_url=cdn_url
    )


def start_widget_site(
    packages: WidgetPackages, *, project_id: str, broker_url: str
) -> ThreadedServer:
    """A loopback site with the page, the widget and the UI components (see the module doc)."""
    site = FastAPI()
    server = ThreadedServer(site)
    page = widget_page(
        widget_js="/widget/index.js",
        project_id=project_id,
        broker_url=broker_url,
        cdn_url=server.url + "/",
    )

    @site.get("/widget.html", response_class=HTMLResponse)
    def _page() -> str:
        return page

    site.mount("/widget", StaticFiles(directory=packages.widget_dist))
    site.mount(
        f"/npm/{UI_PACKAGE}@{COMPONENTS_VERSION}/dist/umd",
        StaticFiles(directory=packages.components_umd),
    )
    return server.start()
