"""Who a connect's grant belongs to: COAT, stale tenant rights, mix-up and replayed landings.

Each test is one attack run against a live broker and demo provider; each ends with nothing
stored for the attacker, and a stray grant withdrawn at the provider.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import select

from broker.area_settings import ConnectOptions
from broker.store.identity import UserTenant
from broker.store.outbound import OutboundAppRow, PendingAuthorizationRow
from tests.support.identity import SignedInUser, new_session, sign_in_new_user
from tests.support.outbound import (
    CALLBACK_PATH,
    confirm,
    consent,
    create_demo_app,
    land,
    outcome_of,
    start_connect,
    stored_tokens,
)
from tests.support.provider import LiveProvider, start_provider
from tests.support.servers import LiveBroker

ADMIN_ROLE = "Tenant Admin"


def _tokens_of(live: LiveBroker, app_id: str) -> list[tuple[str, ...]]:
    """(user id, tenant id) of each token stored for the app."""
    return stored_tokens(live, app_id, "user_id", "tenant_id")


def _approve_as(authorization_url: str, email: str) -> str:
    """The victim's browser (no cookies) approves at the provider as ``email``."""
    return consent(str(httpx.URL(authorization_url).copy_merge_params({"login_hint": email})))


def _status(live: LiveBroker, user: SignedInUser, authorization_url: str) -> dict[str, Any]:
    """What the initiator's tab learns about its own connect (found by its state)."""
    state = dict(parse_qsl(urlsplit(authorization_url).query))["state"]
    answer = httpx.post(
        f"{live.url}/v1/x/outbound/oauth/status",
        headers=live.user_headers(user.refresh_jwt),
        json={"state": state},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _parked_tokens(live: LiveBroker, initiator: SignedInUser) -> list[str]:
    """The grant the callback parked for ``initiator``'s flow, unsealed (to ask the provider)."""
    with live.broker.db.session() as s:
        row = s.scalar(
            select(PendingAuthorizationRow).where(
                PendingAuthorizationRow.user_id == initiator.user_id,
                PendingAuthorizationRow.status == "awaiting",
            )
        )
        assert row is not None and row.grant_sealed
        grant = json.loads(
            live.broker.ring.unseal(row.grant_sealed, context=f"pending:{row.id}:grant")
        )
    return [grant["access_token"], grant["refresh_token"]]


# ---- COAT: the consent link approved by another account ----------------------------------


@pytest.mark.parametrize("victim_signed_in", [False, True], ids=["no-session", "other-account"])
def test_coat_link_approved_by_another_account_stores_nothing_and_revokes_the_grant(
    live_broker: LiveBroker, app_id: str, provider: LiveProvider, victim_signed_in: bool
) -> None:
    dana, sam = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    link = start_connect(live_broker, dana, app_id).json()["url"]
    revocations = provider.stats()["revocations"]
    landed = httpx.get(_approve_as(link, "sam@acme.test"))  # the victim's browser
    location = landed.headers["location"]
    assert outcome_of(location)["outbound"] == "confirm"  # nothing claimed yet

    parked = _parked_tokens(live_broker, dana)
    assert {provider.introspect(t)["status"] for t in parked} == {"active"}

    answer = confirm(live_broker, outcome_of(location)["flow"], sam if victim_signed_in else None)

    assert answer["outcome"] == "refused"
    assert {provider.introspect(t)["status"] for t in parked} == {"revoked"}
    assert answer["error"] == ("other_user" if victim_signed_in else "signed_out")
    assert answer["revoked"] == {"refreshToken": "revoked", "accessToken": "revoked"}
    assert provider.stats()["revocations"] == revocations + 2
    assert _tokens_of(live_broker, app_id) == []
    assert _status(live_broker, dana, link) == {
        "status": "refused",
        "appId": app_id,
        "error": answer["error"],
    }
    # The initiator cannot take the grant over afterwards with the same landing id.
    assert confirm(live_broker, outcome_of(location)["flow"], dana)["outcome"] == "used"
    assert _tokens_of(live_broker, app_id) == []


def test_the_initiator_finishing_in_their_own_browser_keeps_the_grant(
    live_broker: LiveBroker, app_id: str
) -> None:
    dana = sign_in_new_user(live_broker)
    link = start_connect(live_broker, dana, app_id).json()["url"]
    assert _status(live_broker, dana, link)["status"] == "pending"
    landed = httpx.get(_approve_as(link, "alex@acme.test"))
    assert _status(live_broker, dana, link)["status"] == "awaiting"
    assert land(live_broker, landed.headers["location"], dana)["outbound"] == "connected"
    assert _tokens_of(live_broker, app_id) == [(dana.user_id, "")]
    assert _status(live_broker, dana, link)["status"] == "connected"


def test_a_flow_status_is_only_told_to_its_initiator(live_broker: LiveBroker, app_id: str) -> None:
    dana, sam = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    link = start_connect(live_broker, dana, app_id).json()["url"]
    state = dict(parse_qsl(urlsplit(link).query))["state"]
    answer = httpx.post(
        f"{live_broker.url}/v1/x/outbound/oauth/status",
        headers=live_broker.user_headers(sam.refresh_jwt),
        json={"state": state},
    )
    assert answer.status_code == 404 and answer.json()["errorCode"] == "E111520"


def test_a_parked_grant_nobody_confirms_is_revoked_by_the_next_connect(
    live_broker: LiveBroker, app_id: str, provider: LiveProvider
) -> None:
    dana = sign_in_new_user(live_broker)
    link = start_connect(live_broker, dana, app_id).json()["url"]
    httpx.get(_approve_as(link, "sam@acme.test"))  # landed nowhere that confirms
    revocations = provider.stats()["revocations"]
    with live_broker.broker.db.session() as s:
        row = s.scalar(
            select(PendingAuthorizationRow).where(PendingAuthorizationRow.user_id == dana.user_id)
        )
        assert row is not None and row.status == "awaiting"
        row.granted_at = 0
    start_connect(live_broker, sign_in_new_user(live_broker), app_id)
    assert provider.stats()["revocations"] == revocations + 2
    assert _status(live_broker, dana, link) == {
        "status": "refused",
        "appId": app_id,
        "error": "expired",
    }
    assert _tokens_of(live_broker, app_id) == []


# ---- tenant rights -----------------------------------------------------------------------


def _tenant_with(live: LiveBroker, member: SignedInUser, roles: list[str]) -> str:
    tenant_id = httpx.post(
        f"{live.url}/v1/mgmt/tenant/create",
        headers=live.mgmt_headers(),
        json={"id": None, "name": f"Acme {secrets.token_hex(3)}"},
    ).json()["id"]
    added = httpx.post(
        f"{live.url}/v1/mgmt/user/update/tenant/add",
        headers=live.mgmt_headers(),
        json={"loginId": member.login_id, "tenantId": tenant_id},
    )
    assert added.status_code == 200, added.text
    with live.broker.db.session() as s:
        membership = s.get(UserTenant, (member.user_id, tenant_id))
        assert membership is not None
        membership.role_names = roles
    return str(tenant_id)


def _remove(live: LiveBroker, member: SignedInUser, tenant_id: str) -> None:
    removed = httpx.post(
        f"{live.url}/v1/mgmt/user/update/tenant/remove",
        headers=live.mgmt_headers(),
        json={"loginId": member.login_id, "tenantId": tenant_id},
    )
    assert removed.status_code == 200, removed.text


def _tenant_connect(
    live: LiveBroker, user: SignedInUser, app_id: str, tenant_id: str
) -> httpx.Response:
    return start_connect(live, user, app_id, tenantId=tenant_id, tenantLevel=True)


def test_removed_member_old_jwt_cannot_connect_or_replace_the_tenant_token(
    live_broker: LiveBroker, app_id: str
) -> None:
    dana = sign_in_new_user(live_broker)
    tenant_id = _tenant_with(live_broker, dana, [ADMIN_ROLE])
    started = _tenant_connect(live_broker, dana, app_id, tenant_id)
    assert started.status_code == 200, started.text
    landed = httpx.get(_approve_as(started.json()["url"], "alex@acme.test"))
    assert land(live_broker, landed.headers["location"], dana)["outbound"] == "connected"
    assert _tokens_of(live_broker, app_id) == [("", tenant_id)]

    _remove(live_broker, dana, tenant_id)  # dana's refresh JWT still lists the tenant
    again = new_session(live_broker, dana.user_id, dana.login_id)  # signed in after the removal
    for level in ({"tenantLevel": True}, {}):
        # The removal ended every session issued before it (issue 13)...
        ended = start_connect(live_broker, dana, app_id, tenantId=tenant_id, **level)
        assert ended.status_code == 401, ended.text
        # ...and a session opened since is refused by membership read from the database.
        refused = start_connect(live_broker, again, app_id, tenantId=tenant_id, **level)
        assert refused.status_code == 403, refused.text
    assert _tokens_of(live_broker, app_id) == [("", tenant_id)]


def test_member_removed_during_the_consent_gets_nothing_and_the_grant_is_revoked(
    live_broker: LiveBroker, app_id: str, provider: LiveProvider
) -> None:
    dana = sign_in_new_user(live_broker)
    tenant_id = _tenant_with(live_broker, dana, [ADMIN_ROLE])
    started = _tenant_connect(live_broker, dana, app_id, tenant_id)
    _remove(live_broker, dana, tenant_id)
    revocations = provider.stats()["revocations"]
    landed = httpx.get(_approve_as(started.json()["url"], "sam@acme.test"))
    outcome = outcome_of(landed.headers["location"])
    assert outcome["outbound"] == "error" and outcome["error"] == "not_tenant_member"
    assert provider.stats()["revocations"] == revocations + 2
    assert _tokens_of(live_broker, app_id) == []


def test_member_without_the_tenant_admin_role_cannot_connect_or_replace_the_tenant_token(
    live_broker: LiveBroker, app_id: str
) -> None:
    admin, member = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    tenant_id = _tenant_with(live_broker, admin, [ADMIN_ROLE])
    added = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/update/tenant/add",
        headers=live_broker.mgmt_headers(),
        json={"loginId": member.login_id, "tenantId": tenant_id},
    )
    assert added.status_code == 200
    refused = _tenant_connect(live_broker, member, app_id, tenant_id)
    assert refused.status_code == 403 and ADMIN_ROLE in refused.json()["errorMessage"]

    started = _tenant_connect(live_broker, admin, app_id, tenant_id)
    landed = httpx.get(_approve_as(started.json()["url"], "alex@acme.test"))
    assert land(live_broker, landed.headers["location"], admin)["outbound"] == "connected"
    assert _tenant_connect(live_broker, member, app_id, tenant_id).status_code == 403
    assert _tokens_of(live_broker, app_id) == [("", tenant_id)]
    # A plain member may still connect their own account within the tenant.
    own = start_connect(live_broker, member, app_id, tenantId=tenant_id)
    assert own.status_code == 200


def test_the_tenant_admin_role_name_is_a_setting(make_broker: Any, provider: LiveProvider) -> None:
    live = make_broker(connect=ConnectOptions(tenant_admin_role="connections-admin"))
    app_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live, provider, app_id)
    dana = sign_in_new_user(live)
    tenant_id = _tenant_with(live, dana, [ADMIN_ROLE])
    assert _tenant_connect(live, dana, app_id, tenant_id).status_code == 403
    tenant_id = _tenant_with(live, dana, ["connections-admin"])
    assert _tenant_connect(live, dana, app_id, tenant_id).status_code == 200


# ---- mix-up (RFC 9207) -------------------------------------------------------------------


def test_mix_up_code_from_provider_a_delivered_for_app_b_is_refused(
    live_broker: LiveBroker, app_id: str
) -> None:
    other_provider = start_provider()  # a second authorization server, its own issuer
    try:
        _deliver_a_code_for_b(live_broker, app_id, other_provider)
    finally:
        other_provider.stop()


def _deliver_a_code_for_b(
    live_broker: LiveBroker, app_id: str, other_provider: LiveProvider
) -> None:
    app_b = f"acme-b-{secrets.token_hex(4)}"
    create_demo_app(live_broker, other_provider, app_b)
    user = sign_in_new_user(live_broker)
    state_b = dict(parse_qsl(urlsplit(start_connect(live_broker, user, app_b).json()["url"]).query))
    answer_a = dict(
        parse_qsl(urlsplit(consent(start_connect(live_broker, user, app_id).json()["url"])).query)
    )
    tokens_at_b = sum(other_provider.stats()["token_calls"].values())
    landed = httpx.get(
        f"{live_broker.url}{CALLBACK_PATH}",
        params={"code": answer_a["code"], "iss": answer_a["iss"], "state": state_b["state"]},
    )
    outcome = outcome_of(landed.headers["location"])
    assert outcome["outbound"] == "error" and outcome["error"] == "issuer_mismatch"
    assert (
        sum(other_provider.stats()["token_calls"].values()) == tokens_at_b
    )  # B's token endpoint never saw it
    assert _tokens_of(live_broker, app_b) == []


def test_an_answer_without_the_advertised_iss_is_refused(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    stripped = {k: v for k, v in parse_qsl(urlsplit(callback).query) if k != "iss"}
    landed = httpx.get(callback.split("?")[0], params=stripped)
    assert outcome_of(landed.headers["location"])["error"] == "issuer_missing"
    assert _tokens_of(live_broker, app_id) == []


def test_a_code_is_not_redeemed_at_a_token_endpoint_changed_during_the_consent(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    with live_broker.broker.db.session() as s:
        row = s.get(OutboundAppRow, app_id)
        assert row is not None
        row.token_url = "http://127.0.0.1:9/steal-the-code"
    landed = httpx.get(callback)
    assert outcome_of(landed.headers["location"])["error"] == "app_changed"
    assert _tokens_of(live_broker, app_id) == []


# ---- the landing page asks the broker ----------------------------------------------------


def test_replayed_landing_url_does_not_claim_success(live_broker: LiveBroker, app_id: str) -> None:
    user = sign_in_new_user(live_broker)
    landed = httpx.get(consent(start_connect(live_broker, user, app_id).json()["url"]))
    flow = outcome_of(landed.headers["location"])["flow"]
    assert confirm(live_broker, flow, user)["outcome"] == "connected"
    assert confirm(live_broker, flow, user) == {"outcome": "used", "appId": app_id}
    # A landing URL whose query claims success with a made-up flow id.
    assert confirm(live_broker, secrets.token_urlsafe(32), user) == {"outcome": "unknown"}
