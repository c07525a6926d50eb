"""A token's owner as the tokens page names it, and the key its pages are ordered by.

The dashboard labels a user's token with the user's name, else email, else first login id,
else the user id, and a tenant's token "Tenant <name or id>" (``dashboard.inventory.records``);
it sorts by that label, lower-cased. The broker keeps the same key on each token row
(``ManagedTokenRow.owner_sort``, indexed), so a page of the inventory is read in that order
instead of sorting every row for every page: set when the row is made, and again when the
label changes (``resort``: a tenant renamed or deleted, a user deleted; users are not renamed
in this API).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broker.store.identity import LoginId, Tenant, User
from broker.store.outbound import ManagedTokenRow

KEY_LENGTH = 256  # the column's width


def owner_label(session: Session, user_id: str, tenant_id: str) -> str:
    """The owner's name as the tokens page shows it."""
    if not user_id:
        name = session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
        return f"Tenant {name or tenant_id}"
    person = session.execute(select(User.name, User.email).where(User.id == user_id)).first()
    if person is not None and (person.name or person.email):
        return str(person.name or person.email)
    login = session.scalar(
        select(LoginId.login_id)
        .where(LoginId.user_id == user_id)
        .order_by(LoginId.position)
        .limit(1)
    )
    return login or user_id


def sort_key(label: str) -> str:
    """The stored key of ``label``: lower-cased, cut to the column."""
    return label.lower()[:KEY_LENGTH]


def owner_sort(session: Session, user_id: str, tenant_id: str) -> str:
    """``sort_key`` of the owner's label."""
    return sort_key(owner_label(session, user_id, tenant_id))


def resort(session: Session, user_id: str, tenant_id: str = "") -> None:
    """The owner's tokens' key after its label changed: a tenant renamed or deleted (its own
    tokens, ``user_id`` empty), a user deleted (its tokens stay, named by their user id)."""
    owned = (
        ManagedTokenRow.user_id == user_id
        if user_id
        else (ManagedTokenRow.tenant_id == tenant_id) & (ManagedTokenRow.user_id == "")
    )
    session.flush()
    session.execute(
        update(ManagedTokenRow)
        .where(owned)
        .values(owner_sort=owner_sort(session, user_id, tenant_id))
    )
