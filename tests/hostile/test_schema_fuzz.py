"""Schema fuzzing: schemathesis drives every operation of the broker's OpenAPI document.

Against a live broker (real HTTP on loopback, SQLite and PostgreSQL), with a management key and a
user's refresh JWT in every request (``Bearer pid:jwt:key``: the JWT is the second part, the key
the last). Schemathesis' engine runs its coverage phase (boundary values, wrong types, missing
fields) and its fuzzing phase (valid and invalid bodies), bounded in examples. Nothing may
answer 5xx, every error must be a Descope JSON body, and every response must come back inside a
generous bound (``max_response_time``: a bound, not a benchmark).

Schemathesis' pytest loader (``from_fixture``) does not run under pytest 9, so the test runs the
engine itself, as the ``st`` command does, and reads the failures from its events.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from broker.identity.sessions import start_session
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker

# Seconds; a response slower than this is a hang, whatever the machine's load.
MAX_RESPONSE_TIME_S = 15.0
EXAMPLES_PER_OPERATION = 10
# Fixed, so a CI failure reproduces; change it to explore (each seed is a different run).
FUZZ_SEED = 20261128
# The browser-facing callback answers an HTML page (or a redirect), never JSON, by design.
HTML_OPERATIONS = {"/v1/outbound/oauth/callback"}
ERROR_FIELDS = ("errorCode", "errorDescription", "errorMessage")


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, Any]:
    """Demo mode, so the email-code operations can answer: without a mail server they answer
    501 by design (tests/hostile/test_threats_sign_in.py::test_outbox_refused_outside_demo_mode)."""
    return {"demo_mode": True}


@schemathesis.check
def descope_error_body(ctx: Any, response: Any, case: Any) -> None:
    """A 4xx/5xx answer carries ``{errorCode, errorDescription, errorMessage}``, all non-empty."""
    if response.status_code < 400 or case.operation.path in HTML_OPERATIONS:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} with a non-JSON body") from None
    missing = [k for k in ERROR_FIELDS if not (isinstance(body, dict) and body.get(k))]
    if missing:
        raise AssertionError(f"{response.status_code} error body lacks {missing}: {body!r:.200}")


def _fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            # One worker: CPython 3.11 can raise "AST constructor recursion depth mismatch" when
            # two threads compile at once (seen in CI), a harness error that is not the broker's.
            "workers": 1,
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
            "phases": {"stateful": {"enabled": False}, "examples": {"enabled": False}},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "descope_error_body": {"enabled": True},
                "max_response_time": MAX_RESPONSE_TIME_S,
            },
        }
    )


def _with_auth(schema: Any, live: LiveBroker) -> None:
    user = sign_in_new_user(live, "fuzz@example.test")
    # logout and logoutall end sessions: they get a fresh one of another user each time.
    leaver = sign_in_new_user(live, "fuzz-leaver@example.test")
    shared = f"Bearer {live.project_id}:{user.refresh_jwt}:{live.management_key}"

    @schema.auth(refresh_interval=None)
    class Sessions:
        """``Bearer pid:jwt:key``; the JWT is the second part, the management key the last."""

        def get(self, case: Any, context: Any) -> str:
            if not case.operation.path.startswith("/v1/auth/logout"):
                return shared
            jwt = start_session(live.broker, leaver.user_id, ["pwd"]).refresh_jwt
            return f"Bearer {live.project_id}:{jwt}:{live.management_key}"

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}


def _failures(schema: Any) -> tuple[list[str], int]:
    """Run the engine; the failures it reports (one line each) and the operations it tested."""
    failures: list[str] = []
    tested: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            tested.add(event.recorder.label)
            for checks in event.recorder.checks.values():
                failures += [
                    f"{event.recorder.label}: {c.name}: {c.failure_info.failure.title} "
                    f"{c.failure_info.failure.message[:300]}"
                    for c in checks
                    if c.status == Status.FAILURE and c.failure_info is not None
                ]
        elif isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: error {event.value!r:.300}")
        elif isinstance(event, events.FatalError):
            failures.append(f"fatal: {event.exception!r:.300}")
    return sorted(set(failures)), len(tested)


def test_no_operation_answers_5xx_a_non_descope_error_or_hangs(live_broker: LiveBroker) -> None:
    """Every operation survives boundary, invalid and valid input with a Descope-shaped answer."""
    schema = schemathesis.openapi.from_url(f"{live_broker.url}/openapi.json", config=_fuzz_config())
    _with_auth(schema, live_broker)
    failures, tested = _failures(schema)
    assert tested >= 60, f"only {tested} operations were tested"
    assert not failures, "\n".join(failures[:30])
