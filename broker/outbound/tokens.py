"""Handing tokens out: fetch (refreshing first when due), connection status, disconnect.

A fetch is decided in one place: ``fresh_answer`` answers a token usable now (no refresh
forced); anything else goes to ``fetch_token``, which answers the errors or asks the refresh
engine. ``fetch`` runs the endpoint's whole path; ``fresh_token`` is the fast path's share.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from broker.context import Broker, ServiceKey
from broker.errors import DescopeError, Forbidden, MissingArguments, TokenNotFound
from broker.identity.auth import Caller
from broker.lifecycle import metrics
from broker.lifecycle.flight import LoopFlights
from broker.lifecycle.refresh import (
    ReauthorizationRequired,
    RefreshOutcome,
    needs_refresh,
    refresh_token,
)
from broker.lifecycle.status_names import TokenStatus
from broker.lifecycle.vault import (
    read_token,
    revoke_and_delete,
    select_token,
    token_to_wire,
)
from broker.outbound.wire import TokenFetchRequest
from broker.providers.registration import OutboundApp, find_app, resolve_app
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow, OutboundAppRow, StoredToken


def _lookup(
    broker: Broker,
    req: TokenFetchRequest,
    *,
    tenant_level: bool,
    by_scopes: bool,
    on_loop: bool = False,
) -> StoredToken | None:
    user_id = "" if tenant_level else (req.user_id or "")
    tenant_id = req.tenant_id or ""
    if tenant_level and not tenant_id:
        raise MissingArguments("tenantId is required")
    if not tenant_level and not user_id:
        raise MissingArguments("userId is required")
    return select_token(
        broker.db,
        app_id=req.app_id,
        user_id=user_id,
        tenant_id=tenant_id,
        scopes=_scopes(req, by_scopes),
        external_identifier=req.external_identifier,
        on_loop=on_loop,
    )


def _scopes(req: TokenFetchRequest, by_scopes: bool) -> list[str] | None:
    return [s for s in req.scopes or [] if s] if by_scopes else None


def _forced(req: TokenFetchRequest) -> bool:
    return bool(req.options and req.options.force_refresh)


def _with_refresh(req: TokenFetchRequest) -> bool:
    return bool(req.options and req.options.with_refresh_token)


def _usable_now(broker: Broker, row: StoredToken) -> bool:
    return row.status != TokenStatus.NEEDS_REAUTH and not needs_refresh(
        row, now_s(), broker.settings.refresh_margin_s
    )


@dataclass(frozen=True)
class Found:
    """What the fetch's lookup found: the owner's token, or None when there is none."""

    row: StoredToken | None


def lookup_on_loop(
    broker: Broker, req: TokenFetchRequest, *, tenant_level: bool, by_scopes: bool
) -> Found | None:
    """The fetch's lookup on the event loop's own connection (one indexed read); None when that
    read failed (the connection is dropped, and the worker path reads through the pool, where
    the error, if the database is really down, becomes the answer)."""
    try:
        return Found(
            _lookup(broker, req, tenant_level=tenant_level, by_scopes=by_scopes, on_loop=True)
        )
    except DBAPIError:
        return None


def fresh_answer(broker: Broker, req: TokenFetchRequest, found: Found) -> dict[str, Any] | None:
    """The wire token when ``found`` is usable now and no refresh was forced; None when
    ``fetch_token`` must answer instead (forced, due for refresh, missing, dead grant)."""
    row = found.row
    if _forced(req) or row is None or not _usable_now(broker, row):
        return None
    metrics.fetches("fresh").inc()
    return token_to_wire(broker, row, with_refresh=_with_refresh(req))


def fresh_token(
    broker: Broker, req: TokenFetchRequest, *, tenant_level: bool, by_scopes: bool
) -> dict[str, Any] | None:
    """``fresh_answer`` after ``lookup_on_loop`` (no read when a refresh is forced: the
    endpoint reads anyway)."""
    if _forced(req):
        return None
    found = lookup_on_loop(broker, req, tenant_level=tenant_level, by_scopes=by_scopes)
    return fresh_answer(broker, req, found) if found is not None else None


def fetch_token(
    broker: Broker,
    req: TokenFetchRequest,
    *,
    tenant_level: bool,
    by_scopes: bool,
    arrived: float | None = None,
    found: Found | None = None,
) -> dict[str, Any] | Refreshed:
    """The wire token for a user (or tenant); refreshed first when expired or expiring.

    ``arrived`` is when the request arrived: a forced refresh already in flight answers it.
    ``found``: the lookup already made on the event loop (else it is made here).
    """
    if found is None:
        found = Found(_lookup(broker, req, tenant_level=tenant_level, by_scopes=by_scopes))
    row = found.row
    if row is None:
        with broker.db.session() as s:
            find_app(s, req.app_id)  # an unknown app answers its own error first
        wanted = " the requested scopes" if _scopes(req, by_scopes) else ""
        raise TokenNotFound("No token matches" + wanted)
    if row.status == TokenStatus.NEEDS_REAUTH:
        # The grant is dead (issue 4): its access token may be revoked too, so a fetch
        # answers the typed error rather than a token, until the user connects again.
        metrics.fetches("needs_reauth").inc()
        reason = f": {row.last_refresh_error}" if row.last_refresh_error else ""
        raise ReauthorizationRequired(f"The user must connect this app again{reason}")
    # The hot path (bench/fetch.py): a token usable now is answered from this one read,
    # without the refresh engine's own reads (row, lease) and a third session.
    answer = fresh_answer(broker, req, found)
    if answer is not None:
        return answer
    outcome = refresh_token(broker, row.id, force=_forced(req), not_before=arrived)
    return Refreshed(row.id, outcome)


@dataclass(frozen=True)
class Refreshed:
    """``fetch_token``'s answer after a refresh: the token to read and send
    (``refreshed_answer``, on the event loop: a storm's callers are answered by one indexed
    read each there, not by a session each in the thread pool), and the refresh's outcome."""

    token_id: str
    outcome: RefreshOutcome


def refreshed_answer(
    broker: Broker, refreshed: Refreshed, req: TokenFetchRequest, *, on_loop: bool
) -> dict[str, Any]:
    """The wire token after a refresh (``TokenNotFound`` when it was deleted meanwhile)."""
    row = read_token(broker.db, refreshed.token_id, on_loop=on_loop)
    if row is None:
        raise TokenNotFound("The token was deleted")
    return token_to_wire(broker, row, with_refresh=_with_refresh(req))


async def fetch(
    broker: Broker, req: TokenFetchRequest, *, tenant_level: bool, by_scopes: bool, arrived: float
) -> dict[str, Any]:
    """The fetch endpoints' answer: the wire token, refreshed first when due or forced.

    The broker's hot path (bench/fetch.py, docs/performance.md; the common case is answered
    before this, by ``fast_fetch``). The lookup is one indexed read on the event loop's own
    connection (``Database.loop_read``), so the loop never waits on a pool checkout; a token
    usable now is answered here. Anything else (refresh due or forced, no token, dead grant)
    runs in a worker thread with what the lookup found, since it may call the provider: in a
    storm of forced refreshes the threads then wait on the one refresh without first queueing
    for the pool's connections. A refresh of a stored token already on its way in this process
    for the same kind of request is awaited on the loop (``LoopFlights``), not in a thread of its
    own (the engine's in-process single-flight would make that thread wait anyway). The
    refreshed token is read on the loop again (through the pool if that read fails).
    """
    found = lookup_on_loop(broker, req, tenant_level=tenant_level, by_scopes=by_scopes)
    token = fresh_answer(broker, req, found) if found is not None else None
    if token is not None:
        return token
    work = partial(
        run_in_threadpool,
        partial(
            fetch_token,
            broker,
            req,
            tenant_level=tenant_level,
            by_scopes=by_scopes,
            arrived=arrived,
            found=found,
        ),
    )
    row = found.row if found is not None else None
    if row is None or row.status == TokenStatus.NEEDS_REAUTH:
        answered = await work()
    else:  # fetch_token will refresh: one thread per token and kind of request in this process
        key = (row.id, "force" if _forced(req) else "fetch", str(_with_refresh(req)))
        answered = await broker.service(_REFRESHING).run(key, work, _count_joined)
    if isinstance(answered, dict):
        return answered
    try:
        return refreshed_answer(broker, answered, req, on_loop=True)
    except DBAPIError:
        return await run_in_threadpool(
            partial(refreshed_answer, broker, answered, req, on_loop=False)
        )


_REFRESHING = ServiceKey("tokens.refreshing", lambda _: LoopFlights[dict[str, Any] | Refreshed]())


def _count_joined(answer: dict[str, Any] | Refreshed | DescopeError) -> None:
    """A fetch answered by a refresh it joined counts as the engine counts each caller."""
    if isinstance(answer, DescopeError):
        result = type(answer).__name__
    else:
        result = answer.outcome if isinstance(answer, Refreshed) else "fresh"
    metrics.fetches(result).inc()


def _holds_valid_token(row: ManagedTokenRow, now: float) -> bool:
    if row.status == TokenStatus.NEEDS_REAUTH:
        return False
    fresh = not row.access_token_expiry or row.access_token_expiry > now
    return (row.access_token_sealed is not None and fresh) or row.refresh_token_sealed is not None


def apps_with_user_token(
    broker: Broker, caller: Caller, user_id: str | None, tenant_id: str | None
) -> list[str]:
    """Ids of the apps the user holds a usable token for (a user may only ask about themselves)."""
    if not caller.is_management:
        if user_id and user_id != caller.user_id:
            raise Forbidden("A user may only list their own connections")
        user_id = caller.user_id
    if not user_id:
        raise MissingArguments("userId is required")
    now = now_s()
    with broker.db.session() as s:
        rows = s.scalars(
            select(ManagedTokenRow).where(
                ManagedTokenRow.user_id == user_id,
                ManagedTokenRow.tenant_id == (tenant_id or ""),
            )
        ).all()
        return sorted({r.app_id for r in rows if _holds_valid_token(r, now)})


def _present(value: str | None) -> str:
    # The node SDK sends the literal "undefined" for an argument left out.
    return "" if value in (None, "", "undefined", "null") else str(value)


def _apps_of(broker: Broker, rows: list[ManagedTokenRow]) -> dict[str, OutboundApp]:
    with broker.db.session() as s:
        found = s.scalars(
            select(OutboundAppRow).where(OutboundAppRow.id.in_({r.app_id for r in rows}))
        ).all()
        return {a.id: resolve_app(broker, a) for a in found}


def delete_user_tokens(
    broker: Broker, app_id: str | None, user_id: str | None
) -> list[dict[str, str]]:
    """Revoke and delete the tokens of an app and/or a user; answers revocation outcomes."""
    app, user = _present(app_id), _present(user_id)
    if not app and not user:
        raise MissingArguments("appId or userId is required")
    with broker.db.session() as s:
        query = select(ManagedTokenRow)
        if app:
            query = query.where(ManagedTokenRow.app_id == app)
        if user:
            query = query.where(ManagedTokenRow.user_id == user)
        rows = list(s.scalars(query).all())
    return revoke_and_delete(broker, rows, _apps_of(broker, rows))


def delete_token(broker: Broker, token_id: str | None) -> list[dict[str, str]]:
    """Revoke and delete one token by id; 404 E111504 when there is none."""
    tid = _present(token_id)
    if not tid:
        raise MissingArguments("id is required")
    with broker.db.session() as s:
        row = s.get(ManagedTokenRow, tid)
        if row is None:
            raise TokenNotFound(f"Token {tid} not found")
    return revoke_and_delete(broker, [row], _apps_of(broker, [row]))
