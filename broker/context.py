"""The broker's runtime: settings, database, key ring and identity services, once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.requests import Request

from broker.config import BrokerSettings, refuse_unsafe_settings
from broker.crypto import KeyRing, Secret
from broker.project.credentials import (
    LOCAL_ENV_FILE,
    LOCAL_ENV_HEADER,
    ManagementKeys,
    ensure_project,
    read_env_file,
    write_env_file,
)
from broker.project.mail import SmtpServer
from broker.project.signing import SigningKeys
from broker.store.db import Database
from broker.store.files import secure_data_dir

_Service = TypeVar("_Service")


@dataclass(frozen=True, eq=False)
class ServiceKey(Generic[_Service]):
    """A typed slot of ``Services``: the module owning a service defines its key once, with
    the function that builds the service on first use, so every lookup is type-checked."""

    name: str
    build: Callable[[Broker], _Service]


class Services:
    """One broker's area services (throttles, refresh flights, parsed settings), each built on
    first use through its ``ServiceKey`` and shared by every request of the process after."""

    def __init__(self) -> None:
        self._built: dict[ServiceKey[Any], object] = {}
        self._lock = threading.RLock()  # a service's build may ask for another one

    def get(self, broker: Broker, key: ServiceKey[_Service]) -> _Service:
        """The service of ``key``, built once per process."""
        found = self._built.get(key)
        if found is None:
            with self._lock:
                found = self._built.get(key)
                if found is None:
                    found = self._built[key] = key.build(broker)
        return cast(_Service, found)


@dataclass
class Broker:
    """Everything a request handler needs; areas keep their own services in ``services``."""

    settings: BrokerSettings
    db: Database
    ring: KeyRing
    project_id: str
    management_key: Secret
    signing: SigningKeys
    management_keys: ManagementKeys
    # Area services (throttles, refresh flights…), created lazily by their modules.
    services: Services = field(default_factory=Services)

    def service(self, key: ServiceKey[_Service]) -> _Service:
        """The area service of ``key`` (``Services.get``)."""
        return self.services.get(self, key)


def broker_of(request: Request) -> Broker:
    """The process's Broker runtime."""
    broker: Broker = request.app.state.broker
    return broker


def db_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back if it raises."""
    with broker_of(request).db.session() as session:
        yield session


# A handler's database session (FastAPI's full-stack-template convention): the handler passes it
# to the services that own the queries. ``scope="function"`` commits before the response leaves.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def bootstrap(settings: BrokerSettings, *, write_local_env: bool = True) -> Broker:
    """Open (or create) the data folder, migrate, and ensure project, keys and signing keys.

    Run once before worker processes start, so every worker shares the same keys. Settings it
    will not run with (demo mode off loopback, an unusable SMTP URL) raise StartupRefused first.
    """
    refuse_unsafe_settings(settings)
    if settings.smtp_url is not None:
        SmtpServer.from_url(settings.smtp_url)
    secure_data_dir(settings.data_dir, settings.resolved_database_url)
    ring = KeyRing.load_or_create(settings.data_dir)
    db = Database(settings.resolved_database_url, workers=settings.workers)
    db.migrate()
    creds = ensure_project(db, settings.data_dir, ring)
    signing = SigningKeys(db, ring, creds.project_id)
    signing.ensure()
    if write_local_env:
        path = settings.data_dir / LOCAL_ENV_FILE
        values = read_env_file(path)
        values.update(
            {
                "OUTBOUND_PROJECT_ID": creds.project_id,
                "OUTBOUND_MANAGEMENT_KEY": creds.management_key.reveal(),
                "OUTBOUND_BROKER_URL": settings.base_url,
            }
        )
        write_env_file(path, values, LOCAL_ENV_HEADER)
    return Broker(
        settings=settings,
        db=db,
        ring=ring,
        project_id=creds.project_id,
        management_key=creds.management_key,
        signing=signing,
        management_keys=ManagementKeys(db, ring),
    )
