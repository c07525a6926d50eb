"""Request bodies of the identity endpoints, shaped exactly like Descope's wire format.

Fields use camelCase aliases; every optional field accepts the explicit ``null`` the Python SDK
sends, and unknown fields are ignored (the SDKs send many we do not use).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# JSON integers the JS SDKs represent exactly; larger ones overflow the database's integer columns.
MAX_WIRE_INT = 2**53 - 1
# A page number past this would make an offset no database can hold.
MAX_PAGE = 10**9


class WireModel(BaseModel):
    """Base of every request body: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SignUpUser(WireModel):
    """The ``user`` details a sign-up may carry."""

    name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None


class PasswordSignUp(WireModel):
    """``POST /v1/auth/password/signup``."""

    login_id: str
    password: str
    user: SignUpUser | None = None


class PasswordSignIn(WireModel):
    """``POST /v1/auth/password/signin``."""

    login_id: str
    password: str


class OtpSignIn(WireModel):
    """``POST /v1/auth/otp/signin/email``."""

    login_id: str
    login_options: dict[str, Any] | None = None


class OtpSignUp(WireModel):
    """``POST /v1/auth/otp/signup/email`` and ``/signup-in/email``."""

    login_id: str
    user: SignUpUser | None = None
    email: str | None = None
    login_options: dict[str, Any] | None = None


class OtpVerify(WireModel):
    """``POST /v1/auth/otp/verify/email``."""

    login_id: str
    code: str


class MyTenants(WireModel):
    """``POST /v1/auth/me/tenants``: the selected tenant (``dct``) or tenants by id."""

    dct: bool | None = None
    ids: list[str] | None = None


class MgmtSignIn(WireModel):
    """``POST /v1/mgmt/auth/signin`` (options other than the login id are accepted, unused)."""

    login_id: str


class AssociatedTenant(WireModel):
    """A tenant membership in a user body."""

    tenant_id: str
    role_names: list[str] | None = None


class UserCreate(WireModel):
    """``POST /v1/mgmt/user/create`` and ``/create/test``."""

    login_id: str
    email: str | None = None
    phone: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    family_name: str | None = None
    role_names: list[str] | None = None
    user_tenants: list[AssociatedTenant] | None = None
    test: bool | None = None
    picture: str | None = None
    custom_attributes: dict[str, Any] | None = None
    additional_login_ids: list[str] | None = None
    verified_email: bool | None = None
    verified_phone: bool | None = None
    invite: bool | None = None
    status: str | None = None
    password: str | None = None


class UserRef(WireModel):
    """A body naming one user by login id or user id."""

    login_id: str | None = None
    user_id: str | None = None


class StatusChange(WireModel):
    """``POST /v1/mgmt/user/update/status``."""

    login_id: str
    status: str


class UserPassword(WireModel):
    """``POST /v1/mgmt/user/password/set/{active,temporary}`` (and the deprecated ``/set``)."""

    login_id: str
    password: str


class UserRoles(WireModel):
    """``POST /v1/mgmt/user/update/role/{set,add,remove}``; with ``tenantId``, roles there."""

    login_id: str
    role_names: list[str] | None = None
    tenant_id: str | None = None


class UserTenantChange(WireModel):
    """``POST /v1/mgmt/user/update/tenant/{add,remove}``."""

    login_id: str
    tenant_id: str


class UsersLoad(WireModel):
    """``POST /v1/mgmt/users/load``."""

    user_ids: list[str]
    include_invalid_users: bool | None = None


class SortField(WireModel):
    """One ``{field, desc}`` sort key."""

    field: str
    desc: bool | None = None


class UserSearch(WireModel):
    """``POST /v2/mgmt/user/search`` (and ``/v1``): filters, page and sort."""

    tenant_ids: list[str] | None = None
    role_names: list[str] | None = None
    limit: int | None = Field(default=None, ge=0, le=MAX_WIRE_INT)
    page: int | None = Field(default=None, ge=0, le=MAX_PAGE)
    test_users_only: bool | None = None
    with_test_user: bool | None = None
    text: str | None = None
    emails: list[str] | None = None
    phones: list[str] | None = None
    statuses: list[str] | None = None
    login_ids: list[str] | None = None
    user_ids: list[str] | None = None
    sort: list[SortField] | None = None
    from_created_time: int | None = Field(default=None, ge=-MAX_WIRE_INT, le=MAX_WIRE_INT)
    to_created_time: int | None = Field(default=None, ge=-MAX_WIRE_INT, le=MAX_WIRE_INT)
    from_modified_time: int | None = Field(default=None, ge=-MAX_WIRE_INT, le=MAX_WIRE_INT)
    to_modified_time: int | None = Field(default=None, ge=-MAX_WIRE_INT, le=MAX_WIRE_INT)


class TenantBody(WireModel):
    """``POST /v1/mgmt/tenant/create`` and ``/update`` (``id`` is null on create)."""

    id: str | None = None
    name: str
    self_provisioning_domains: list[str] | None = None
    custom_attributes: dict[str, Any] | None = None
    enforce_sso: bool | None = Field(default=None, alias="enforceSSO")
    disabled: bool | None = None


class TenantRef(WireModel):
    """``POST /v1/mgmt/tenant/delete``."""

    id: str
    cascade: bool | None = None
