"""Demo provider pages as a stakeholder sees them: the app's name, the right account, and error
pages that are styled and say what to do next (issue 15)."""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token

from broker.demo_provider.consent_form import ConsentForm
from tests.support.provider import DemoClient, LiveProvider


def _page(client: DemoClient, state: str, **extra: str) -> str:
    params = client.authorize_params("profile calendar.read", generate_token(48), state=state)
    page = client.authorize({**params, **extra})
    assert page.status_code == 200
    return page.text


def test_the_consent_page_names_the_app_not_its_client_id(consent_provider: LiveProvider) -> None:
    named = consent_provider.client("named-client", client_name="Outbound Dashboard")

    text = _page(named, "s-named")

    assert "Sign in to continue to <b>Outbound Dashboard</b>" in text
    assert "named-client" not in text.split("<form")[0]  # only as a hidden form field


@pytest.mark.parametrize(
    ("hint", "shown"),
    [("dana@acme.test", "dana@acme.test"), ("nobody@example.test", "alex@acme.test")],
)
def test_sign_in_starts_on_the_hinted_account_when_there_is_one(
    consent_provider: LiveProvider, hint: str, shown: str
) -> None:
    client = consent_provider.client("hint-client")

    text = _page(client, f"s-{hint}", login_hint=hint)

    assert f"value='{shown}'" in text
    assert f"Demo account: <b>{shown}</b>" in text


def test_allow_again_after_back_is_a_styled_page_that_says_what_to_do(
    consent_provider: LiveProvider,
) -> None:
    client = consent_provider.client("twice-client")
    form = ConsentForm(_page(client, "s-twice"))
    data = {
        **form.fields,
        "grant_scope": form.scopes,
        "email": "alex@acme.test",
        "password": "demo",
        "decision": "approve",
    }
    url = f"{consent_provider.url}{form.action}"

    first = consent_provider.http.post(url, data=data)
    again = consent_provider.http.post(url, data=data)  # Back, then Allow once more

    assert first.status_code == 302
    assert again.status_code == 409
    assert "<style>" in again.text and "You already answered this request" in again.text
    assert "What to do:" in again.text and "press Connect" in again.text


def test_a_wrong_password_can_be_corrected_on_the_same_page(
    consent_provider: LiveProvider,
) -> None:
    client = consent_provider.client("retry-client")
    form = ConsentForm(_page(client, "s-retry"))
    data = {**form.fields, "grant_scope": form.scopes, "email": "alex@acme.test"}
    url = f"{consent_provider.url}{form.action}"

    wrong = consent_provider.http.post(url, data={**data, "password": "x", "decision": "approve"})
    right = consent_provider.http.post(
        url, data={**data, "password": "demo", "decision": "approve"}
    )

    assert wrong.status_code == 401 and right.status_code == 302


def test_an_invalid_link_is_a_styled_page_that_says_what_to_do(
    consent_provider: LiveProvider,
) -> None:
    page = consent_provider.http.get(
        f"{consent_provider.url}/oauth/authorize", params={"client_id": "nobody"}
    )

    assert page.status_code >= 400
    assert "<style>" in page.text and "What to do:" in page.text and "Connect" in page.text
