"""Reading and answering the demo provider's consent page from code (demo seeding, tests)."""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from broker.demo_provider.directory import DEMO_PASSWORD


class ConsentForm(HTMLParser):
    """The consent page's form: its action, hidden and text inputs, and the scope checkboxes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.scopes: list[str] = []
        self.action = ""
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect the form's action and inputs."""
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "checkbox":
            self.scopes.append(a.get("value", ""))
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def approve(
    http: httpx.Client,
    authorization_url: str,
    *,
    email: str,
    password: str = DEMO_PASSWORD,
    scopes: Sequence[str] | None = None,
) -> str:
    """Open the consent page, tick ``scopes`` (default: all offered), approve as ``email``.

    Answers the ``Location`` the provider redirects to (the client's redirect URI with a code).
    """
    page = http.get(authorization_url)
    if page.status_code in (302, 303):  # an auto-approving provider answers at once
        return page.headers["location"]
    page.raise_for_status()
    form = ConsentForm(page.text)
    data = {
        **form.fields,
        "email": email,
        "password": password,
        "grant_scope": list(scopes) if scopes is not None else form.scopes,
        "decision": "approve",
    }
    answer = http.post(urljoin(authorization_url, form.action), data=data)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"the consent page did not approve (HTTP {answer.status_code})")
    return answer.headers["location"]
