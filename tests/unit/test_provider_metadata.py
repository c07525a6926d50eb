"""Provider metadata: read from token answers and id_token claims as each catalog entry says."""

from __future__ import annotations

import jwt

from broker.providers.catalog import load_catalog


def test_provider_metadata_reads_id_token_claims_and_nested_fields() -> None:
    microsoft = load_catalog()["microsoft"].quirks
    id_token = jwt.encode({"sub": "s", "tid": "72f988bf", "oid": "o1"}, "k" * 32)
    answer = {"access_token": "a", "id_token": id_token}
    claims = jwt.decode(id_token, options={"verify_signature": False})
    assert microsoft.metadata_of(answer, claims) == {"tid": "72f988bf", "oid": "o1"}
    slack = load_catalog()["slack"].quirks
    answer = {"ok": True, "team": {"id": "T1", "name": "Acme"}, "authed_user": {"id": "U1"}}
    assert slack.metadata_of(answer, {}) == {
        "team_id": "T1",
        "team_name": "Acme",
        "authed_user_id": "U1",
    }
    assert slack.token_set(answer) is answer  # no token anywhere: the top level answers


def test_callback_values_are_kept_only_as_plain_identifiers() -> None:
    quickbooks = load_catalog()["quickbooks"].quirks
    assert quickbooks.callback_metadata({"realmId": "9341453474484455", "code": "c"}) == {
        "realmId": "9341453474484455"
    }
    for edited in ("<script>", "1 2", "x" * 129, "", "a/b"):
        assert quickbooks.callback_metadata({"realmId": edited}) == {}
