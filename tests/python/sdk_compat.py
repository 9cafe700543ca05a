#!/usr/bin/env python3
"""Checks that the official Microsoft Graph Python SDK (msgraph-sdk) works unchanged against a
Consulate server, for every connected-organization operation, and for catalogs, their
resources, access packages and assignment policies (including the PUT replace).

    python sdk_compat.py --base-url http://127.0.0.1:8080/v1.0 --token TOKEN \
        --member-id MEMBER_USER_ID --guest-id GUEST_USER_ID

The caller creates one member user and one guest user beforehand. Every check is a plain
``assert``; the first failure ends the run with a non-zero exit status. Object names carry a
random per-run tag, so the script can run repeatedly against the same server, and it deletes
everything it created.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import traceback
import uuid
from datetime import timedelta
from typing import Any, Awaitable, Optional

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.identity_governance.entitlement_management.connected_organizations.connected_organizations_request_builder import (
    ConnectedOrganizationsRequestBuilder,
)
from msgraph.generated.identity_governance.entitlement_management.connected_organizations.count.count_request_builder import (
    CountRequestBuilder,
)
from msgraph.generated.identity_governance.entitlement_management.connected_organizations.item.connected_organization_item_request_builder import (
    ConnectedOrganizationItemRequestBuilder,
)
from msgraph.generated.identity_governance.entitlement_management.connected_organizations.item.external_sponsors.ref.ref_request_builder import (
    RefRequestBuilder as ExternalSponsorsRefRequestBuilder,
)
from msgraph.generated.identity_governance.entitlement_management.catalogs.catalogs_request_builder import (
    CatalogsRequestBuilder,
)
from msgraph.generated.identity_governance.entitlement_management.access_packages.item.access_package_item_request_builder import (
    AccessPackageItemRequestBuilder,
)
from msgraph.generated.identity_governance.entitlement_management.catalogs.item.resources.resources_request_builder import (
    ResourcesRequestBuilder,
)
from msgraph.generated.models.access_package import AccessPackage
from msgraph.generated.models.access_package_approval_stage import AccessPackageApprovalStage
from msgraph.generated.models.access_package_assignment_approval_settings import (
    AccessPackageAssignmentApprovalSettings,
)
from msgraph.generated.models.access_package_assignment_policy import AccessPackageAssignmentPolicy
from msgraph.generated.models.access_package_assignment_requestor_settings import (
    AccessPackageAssignmentRequestorSettings,
)
from msgraph.generated.models.access_package_catalog import AccessPackageCatalog
from msgraph.generated.models.access_package_request_state import AccessPackageRequestState
from msgraph.generated.models.access_package_request_type import AccessPackageRequestType
from msgraph.generated.models.access_package_resource import AccessPackageResource
from msgraph.generated.models.access_package_resource_request import AccessPackageResourceRequest
from msgraph.generated.models.access_package_resource_role import AccessPackageResourceRole
from msgraph.generated.models.access_package_resource_role_scope import AccessPackageResourceRoleScope
from msgraph.generated.models.access_package_resource_scope import AccessPackageResourceScope
from msgraph.generated.models.allowed_target_scope import AllowedTargetScope
from msgraph.generated.models.expiration_pattern import ExpirationPattern
from msgraph.generated.models.expiration_pattern_type import ExpirationPatternType
from msgraph.generated.models.group import Group
from msgraph.generated.models.single_user import SingleUser
from msgraph.generated.models.access_package_catalog_state import AccessPackageCatalogState
from msgraph.generated.models.access_package_catalog_type import AccessPackageCatalogType
from msgraph.generated.models.azure_active_directory_tenant import AzureActiveDirectoryTenant
from msgraph.generated.models.connected_organization import ConnectedOrganization
from msgraph.generated.models.connected_organization_state import ConnectedOrganizationState
from msgraph.generated.models.cross_cloud_azure_active_directory_tenant import (
    CrossCloudAzureActiveDirectoryTenant,
)
from msgraph.generated.models.domain_identity_source import DomainIdentitySource
from msgraph.generated.models.external_domain_federation import ExternalDomainFederation
from msgraph.generated.models.identity_source import IdentitySource
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.social_identity_source import SocialIdentitySource
from msgraph.generated.models.social_identity_source_type import SocialIdentitySourceType
from msgraph.generated.models.user import User

ListParams = ConnectedOrganizationsRequestBuilder.ConnectedOrganizationsRequestBuilderGetQueryParameters
CatalogListParams = CatalogsRequestBuilder.CatalogsRequestBuilderGetQueryParameters
CountParams = CountRequestBuilder.CountRequestBuilderGetQueryParameters
ItemParams = ConnectedOrganizationItemRequestBuilder.ConnectedOrganizationItemRequestBuilderGetQueryParameters
ExternalRefDeleteParams = ExternalSponsorsRefRequestBuilder.RefRequestBuilderDeleteQueryParameters

CHECKS = 0
# One name with characters that must survive $filter quoting and the nextLink round trip.
FEDERATED = "federated O'Neil & Sons + Co #1 100%"


def check(condition: Any, message: str) -> None:
    """One counted check."""
    global CHECKS
    assert condition, message
    CHECKS += 1


class StaticTokenProvider(AccessTokenProvider):
    """Hands the SDK a fixed bearer token for any host (http included)."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._validator = AllowedHostsValidator([])  # empty list: every host is allowed

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] = {}
    ) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._validator


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.base = args.base_url.rstrip("/")
        self.member_id: str = args.member_id
        self.guest_id: str = args.guest_id
        adapter = GraphRequestAdapter(
            BaseBearerTokenAuthenticationProvider(StaticTokenProvider(args.token))
        )
        adapter.base_url = self.base
        self.client = GraphServiceClient(request_adapter=adapter)
        self.orgs = self.client.identity_governance.entitlement_management.connected_organizations
        self.catalogs = self.client.identity_governance.entitlement_management.catalogs
        self.catalog_ids: list[str] = []  # catalogs to delete on cleanup
        self.em = self.client.identity_governance.entitlement_management
        self.cleanup_paths: list[Any] = []  # request builders to delete on cleanup, newest first
        self.tag = "sdk" + uuid.uuid4().hex[:10]  # unique per run: names, domains
        self.created: dict[str, str] = {}  # display name -> id, for the list checks and cleanup

    def name(self, suffix: str) -> str:
        return f"{self.tag} {suffix}"

    def domain(self, suffix: str) -> str:
        return f"{suffix}.{self.tag}.example"

    def user_url(self, user_id: str) -> str:
        return f"{self.base}/users/{user_id}"

    def item(self, org_id: str):
        return self.orgs.by_connected_organization_id(org_id)


async def expect_error(what: str, call: Awaitable[Any], status: int, code: Optional[str] = None) -> ODataError:
    """Awaits ``call`` and checks that it failed with an ODataError of the given status/code."""
    try:
        result = await call
    except ODataError as e:
        err = e.error
        check(
            e.response_status_code == status,
            f"{what}: expected HTTP {status}, got {e.response_status_code} "
            f"({err.code if err else None}: {err.message if err else None})",
        )
        check(err is not None and err.code, f"{what}: the error body has no error.code")
        check(err.message, f"{what}: the error body has no error.message")
        if code is not None:
            check(err.code == code, f"{what}: expected error.code {code!r}, got {err.code!r}")
        return e
    raise AssertionError(f"{what}: expected HTTP {status}, but the call succeeded and returned {result!r}")


# ---------------------------------------------------------------------------------------------
# create


async def create(ctx: Context, suffix: str, source: IdentitySource, **fields: Any) -> ConnectedOrganization:
    name = ctx.name(suffix)
    body = ConnectedOrganization(
        display_name=name,
        description=f"{suffix} created by the SDK compatibility test",
        identity_sources=[source],
        **fields,
    )
    org = await ctx.orgs.post(body)
    check(org is not None and org.id, f"create {suffix}: no object or no id in the 201 response")
    ctx.created[name] = org.id
    check(org.display_name == name, f"create {suffix}: displayName {org.display_name!r} != {name!r}")
    check(org.created_date_time is not None, f"create {suffix}: createdDateTime missing")
    check(org.modified_date_time is not None, f"create {suffix}: modifiedDateTime missing")
    check(
        org.identity_sources and len(org.identity_sources) == 1,
        f"create {suffix}: expected one identity source, got {org.identity_sources!r}",
    )
    return org


async def check_create(ctx: Context) -> None:
    org = await create(
        ctx, "domain", DomainIdentitySource(domain_name=ctx.domain("domain"), display_name=ctx.domain("domain"))
    )
    src = org.identity_sources[0]
    check(type(src) is DomainIdentitySource, f"domain: identity source resolved to {type(src).__name__}")
    check(src.domain_name == ctx.domain("domain"), f"domain: domainName {src.domain_name!r}")
    check(src.display_name == ctx.domain("domain"), f"domain: displayName {src.display_name!r}")
    check(
        org.state == ConnectedOrganizationState.Configured,
        f"domain: state defaults to configured, got {org.state!r}",
    )

    issuer = f"https://idp.{ctx.domain('federated')}/saml"
    org = await create(
        ctx,
        FEDERATED,
        ExternalDomainFederation(
            domain_name=ctx.domain("federated"), display_name="Federated IdP", issuer_uri=issuer
        ),
    )
    src = org.identity_sources[0]
    check(type(src) is ExternalDomainFederation, f"federated: identity source resolved to {type(src).__name__}")
    check(src.domain_name == ctx.domain("federated"), f"federated: domainName {src.domain_name!r}")
    check(src.issuer_uri == issuer, f"federated: issuerUri {src.issuer_uri!r} != {issuer!r}")
    check(org.state == ConnectedOrganizationState.Configured, f"federated: state {org.state!r}")

    tenant = str(uuid.uuid4())
    org = await create(
        ctx, "tenant", AzureActiveDirectoryTenant(tenant_id=tenant, display_name="Partner tenant")
    )
    src = org.identity_sources[0]
    check(type(src) is AzureActiveDirectoryTenant, f"tenant: identity source resolved to {type(src).__name__}")
    check(src.tenant_id == tenant, f"tenant: tenantId {src.tenant_id!r} != {tenant!r}")
    check(org.state == ConnectedOrganizationState.Configured, f"tenant: state {org.state!r}")

    cross_tenant = str(uuid.uuid4())
    org = await create(
        ctx,
        "crosscloud",
        CrossCloudAzureActiveDirectoryTenant(
            tenant_id=cross_tenant, display_name="Gov tenant", cloud_instance="microsoftonline.us"
        ),
    )
    src = org.identity_sources[0]
    check(
        type(src) is CrossCloudAzureActiveDirectoryTenant,
        f"crosscloud: identity source resolved to {type(src).__name__}",
    )
    check(src.tenant_id == cross_tenant, f"crosscloud: tenantId {src.tenant_id!r}")
    check(src.cloud_instance == "microsoftonline.us", f"crosscloud: cloudInstance {src.cloud_instance!r}")
    check(org.state == ConnectedOrganizationState.Configured, f"crosscloud: state {org.state!r}")

    org = await create(
        ctx,
        "social",
        SocialIdentitySource(
            social_identity_source_type=SocialIdentitySourceType.Facebook, display_name=ctx.domain("social")
        ),
    )
    src = org.identity_sources[0]
    check(type(src) is SocialIdentitySource, f"social: identity source resolved to {type(src).__name__}")
    check(
        src.social_identity_source_type == SocialIdentitySourceType.Facebook,
        f"social: socialIdentitySourceType {src.social_identity_source_type!r}",
    )
    check(src.display_name == ctx.domain("social"), f"social: displayName {src.display_name!r}")
    check(org.state == ConnectedOrganizationState.Configured, f"social: state {org.state!r}")

    org = await create(
        ctx,
        "proposed",
        DomainIdentitySource(domain_name=ctx.domain("proposed"), display_name=ctx.domain("proposed")),
        state=ConnectedOrganizationState.Proposed,
    )
    check(org.state == ConnectedOrganizationState.Proposed, f"proposed: state {org.state!r}")
    check(type(org.identity_sources[0]) is DomainIdentitySource, "proposed: identity source type")


# ---------------------------------------------------------------------------------------------
# read


async def list_all(ctx: Context, params: ListParams) -> tuple[list[ConnectedOrganization], int]:
    """Every page of a list, following @odata.nextLink; returns the items and the page count."""
    page = await ctx.orgs.get(RequestConfiguration(query_parameters=params))
    items: list[ConnectedOrganization] = []
    pages = 0
    while page is not None:
        pages += 1
        check(pages <= 100, "paging: more than 100 pages; the nextLink does not advance")
        check(page.value is not None, f"paging: page {pages} has no value array")
        if params.top:
            check(len(page.value) <= params.top, f"paging: page {pages} has {len(page.value)} > $top items")
        if params.count:
            check(page.odata_count is not None, f"paging: page {pages} lost @odata.count")
        items.extend(page.value)
        if not page.odata_next_link:
            break
        check(
            page.odata_next_link.startswith(ctx.base),
            f"paging: nextLink {page.odata_next_link!r} does not point at {ctx.base}",
        )
        page = await ctx.orgs.with_url(page.odata_next_link).get()
    return items, pages


async def check_read(ctx: Context) -> None:
    mine = ctx.name("")  # the run tag and a space: every org this run made starts with it

    # get by id, with and without $select
    name = ctx.name(FEDERATED)
    org = await ctx.item(ctx.created[name]).get()
    check(org.id == ctx.created[name], f"get: id {org.id!r}")
    check(org.display_name == name, f"get: displayName {org.display_name!r}")
    check(type(org.identity_sources[0]) is ExternalDomainFederation, "get: identity source type")
    org = await ctx.item(ctx.created[name]).get(
        RequestConfiguration(query_parameters=ItemParams(select=["id", "displayName"]))
    )
    check(org.display_name == name and org.description is None, "get $select: unselected description returned")

    # plain list: everything this run created is in it
    page = await ctx.orgs.get()
    seen = {o.id for o in page.value or []}
    while page.odata_next_link:
        page = await ctx.orgs.with_url(page.odata_next_link).get()
        seen |= {o.id for o in page.value or []}
    check(set(ctx.created.values()) <= seen, "list: not every created org is listed")

    # $filter displayName eq
    quoted = name.replace("'", "''")  # OData string literal: a quote is doubled
    page = await ctx.orgs.get(RequestConfiguration(query_parameters=ListParams(filter=f"displayName eq '{quoted}'")))
    check([o.id for o in page.value] == [ctx.created[name]], f"$filter eq: got {[o.display_name for o in page.value]}")

    # $filter startswith
    items, _ = await list_all(ctx, ListParams(filter=f"startswith(displayName,'{mine}')"))
    check(
        sorted(o.id for o in items) == sorted(ctx.created.values()),
        f"$filter startswith: got {sorted(o.display_name for o in items)}",
    )

    # $filter over identitySources with a type cast
    domain = ctx.domain("domain")
    page = await ctx.orgs.get(
        RequestConfiguration(
            query_parameters=ListParams(
                filter=f"identitySources/any(is:is/microsoft.graph.domainIdentitySource/domainName eq '{domain}')"
            )
        )
    )
    check(
        [o.id for o in page.value] == [ctx.created[ctx.name("domain")]],
        f"$filter identitySources/any: got {[o.display_name for o in page.value]}",
    )
    tenant_org = await ctx.item(ctx.created[ctx.name("tenant")]).get()
    tenant_id = tenant_org.identity_sources[0].tenant_id
    page = await ctx.orgs.get(
        RequestConfiguration(
            query_parameters=ListParams(
                filter=f"identitySources/any(is:is/microsoft.graph.azureActiveDirectoryTenant/tenantId eq '{tenant_id}')"
            )
        )
    )
    check(
        [o.id for o in page.value] == [tenant_org.id],
        f"$filter tenantId: got {[o.display_name for o in page.value]}",
    )

    # $select
    page = await ctx.orgs.get(
        RequestConfiguration(
            query_parameters=ListParams(filter=f"startswith(displayName,'{mine}')", select=["id", "displayName"])
        )
    )
    check(page.value, "$select: empty page")
    for o in page.value:
        check(o.id and o.display_name, f"$select: id/displayName missing on {o!r}")
        check(
            o.description is None and o.state is None and o.identity_sources is None,
            f"$select: unselected properties returned on {o.display_name!r}",
        )

    # $orderby, ascending and descending
    names = sorted(ctx.created)
    items, _ = await list_all(ctx, ListParams(filter=f"startswith(displayName,'{mine}')", orderby=["displayName"]))
    check([o.display_name for o in items] == names, f"$orderby asc: got {[o.display_name for o in items]}")
    items, _ = await list_all(
        ctx, ListParams(filter=f"startswith(displayName,'{mine}')", orderby=["displayName desc"])
    )
    check(
        [o.display_name for o in items] == names[::-1], f"$orderby desc: got {[o.display_name for o in items]}"
    )

    # $count=true on a list, and the /$count segment
    page = await ctx.orgs.get(
        RequestConfiguration(query_parameters=ListParams(filter=f"startswith(displayName,'{mine}')", count=True))
    )
    check(
        page.odata_count == len(ctx.created),
        f"$count=true: @odata.count {page.odata_count!r} != {len(ctx.created)}",
    )
    n = await ctx.orgs.count.get(
        RequestConfiguration(query_parameters=CountParams(filter=f"startswith(displayName,'{mine}')"))
    )
    check(n == len(ctx.created), f"/$count: {n!r} != {len(ctx.created)}")

    # $top with nextLink paging: every org exactly once, $filter/$orderby/$count carried along
    items, pages = await list_all(
        ctx, ListParams(filter=f"startswith(displayName,'{mine}')", top=2, orderby=["displayName"], count=True)
    )
    ids = [o.id for o in items]
    check(len(ctx.created) >= 5, "paging: fewer than 5 orgs to page through")
    check(pages >= (len(ctx.created) + 1) // 2, f"paging: $top=2 gave only {pages} page(s)")
    check(len(ids) == len(set(ids)), f"paging: an org was returned twice: {[o.display_name for o in items]}")
    check(set(ids) == set(ctx.created.values()), "paging: not every org was seen")
    check([o.display_name for o in items] == names, "paging: $orderby not kept across pages")


# ---------------------------------------------------------------------------------------------
# update


async def check_update(ctx: Context) -> None:
    old = ctx.name("proposed")
    org_id = ctx.created[old]
    before = await ctx.item(org_id).get()
    new = ctx.name("proposed renamed")
    patched = await ctx.item(org_id).patch(
        ConnectedOrganization(
            display_name=new, description="updated description", state=ConnectedOrganizationState.Configured
        )
    )
    del ctx.created[old]
    ctx.created[new] = org_id
    # Graph documents 202 with the object; 204 with no body would also be fine for the SDK.
    if patched is not None:
        check(patched.display_name == new, f"patch: response displayName {patched.display_name!r}")
    org = await ctx.item(org_id).get()
    check(org.display_name == new, f"patch: displayName {org.display_name!r} != {new!r}")
    check(org.description == "updated description", f"patch: description {org.description!r}")
    check(org.state == ConnectedOrganizationState.Configured, f"patch: state {org.state!r}")
    check(type(org.identity_sources[0]) is DomainIdentitySource, "patch: identity sources changed")
    check(org.created_date_time == before.created_date_time, "patch: createdDateTime changed")
    check(org.modified_date_time >= before.modified_date_time, "patch: modifiedDateTime went backwards")

    # state back to proposed, and a new identity source
    new_domain = ctx.domain("moved")
    await ctx.item(org_id).patch(
        ConnectedOrganization(
            state=ConnectedOrganizationState.Proposed,
            identity_sources=[DomainIdentitySource(domain_name=new_domain, display_name=new_domain)],
        )
    )
    org = await ctx.item(org_id).get()
    check(org.state == ConnectedOrganizationState.Proposed, f"patch state: {org.state!r}")
    check(org.display_name == new, "patch state: displayName changed by a patch that did not name it")
    check(org.description == "updated description", "patch state: description changed by a patch that did not name it")
    check(
        org.identity_sources[0].domain_name == new_domain,
        f"patch identitySources: domainName {org.identity_sources[0].domain_name!r}",
    )


# ---------------------------------------------------------------------------------------------
# sponsors


async def check_internal_sponsors(ctx: Context) -> None:
    item = ctx.item(ctx.created[ctx.name("domain")])
    await item.internal_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.member_id)))
    # adding the same sponsor twice is harmless
    await item.internal_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.member_id)))

    page = await item.internal_sponsors.get()
    check(
        [s.id for s in page.value] == [ctx.member_id],
        f"internalSponsors: got {[s.id for s in page.value]}",
    )
    check(
        isinstance(page.value[0], User),
        f"internalSponsors: sponsor resolved to {type(page.value[0]).__name__}, not User",
    )
    refs = await item.internal_sponsors.ref.get()
    check(
        refs.value and len(refs.value) == 1 and refs.value[0].rstrip("/").endswith(ctx.member_id),
        f"internalSponsors/$ref: got {refs.value!r}",
    )

    await item.internal_sponsors.by_directory_object_id(ctx.member_id).ref.delete()
    page = await item.internal_sponsors.get()
    check(page.value == [], f"internalSponsors after delete: {[s.id for s in page.value]}")

    # a guest cannot be an internal sponsor
    await expect_error(
        "guest as internal sponsor",
        item.internal_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.guest_id))),
        400,
    )
    # removing a sponsor that is not there
    await expect_error(
        "remove a missing internal sponsor",
        item.internal_sponsors.by_directory_object_id(ctx.member_id).ref.delete(),
        404,
    )


async def check_external_sponsors(ctx: Context) -> None:
    item = ctx.item(ctx.created[ctx.name("domain")])
    await item.external_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.guest_id)))
    page = await item.external_sponsors.get()
    check([s.id for s in page.value] == [ctx.guest_id], f"externalSponsors: got {[s.id for s in page.value]}")
    check(isinstance(page.value[0], User), f"externalSponsors: resolved to {type(page.value[0]).__name__}")
    check(
        page.value[0].user_type == "Guest", f"externalSponsors: userType {page.value[0].user_type!r}"
    )
    refs = await item.external_sponsors.ref.get()
    check(
        refs.value and len(refs.value) == 1 and refs.value[0].rstrip("/").endswith(ctx.guest_id),
        f"externalSponsors/$ref: got {refs.value!r}",
    )

    # DELETE …/externalSponsors/$ref?@id={url}: the SDK's by-reference form
    await item.external_sponsors.ref.delete(
        RequestConfiguration(query_parameters=ExternalRefDeleteParams(id=ctx.user_url(ctx.guest_id)))
    )
    page = await item.external_sponsors.get()
    check(page.value == [], f"externalSponsors after $ref?@id= delete: {[s.id for s in page.value]}")

    # and the per-item form on the external side too
    await item.external_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.guest_id)))
    await item.external_sponsors.by_directory_object_id(ctx.guest_id).ref.delete()
    page = await item.external_sponsors.get()
    check(page.value == [], "externalSponsors after per-item delete: not empty")

    # a member cannot be an external sponsor
    await expect_error(
        "member as external sponsor",
        item.external_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.member_id))),
        400,
    )


# ---------------------------------------------------------------------------------------------
# errors


async def check_errors(ctx: Context) -> None:
    missing = str(uuid.uuid4())
    e = await expect_error("get a missing org", ctx.item(missing).get(), 404, "itemNotFound")
    inner = e.error.inner_error
    check(inner is not None and inner.request_id, "404: error.innerError.request-id is not set")
    check(inner.date is not None, "404: error.innerError.date is not set")
    await expect_error(
        "patch a missing org", ctx.item(missing).patch(ConnectedOrganization(description="x")), 404, "itemNotFound"
    )
    await expect_error("delete a missing org", ctx.item(missing).delete(), 404, "itemNotFound")
    await expect_error(
        "sponsors of a missing org",
        ctx.item(missing).internal_sponsors.ref.post(ReferenceCreate(odata_id=ctx.user_url(ctx.member_id))),
        404,
    )

    domain = ctx.domain("domain")
    await expect_error(
        "duplicate domain",
        ctx.orgs.post(
            ConnectedOrganization(
                display_name=ctx.name("duplicate"),
                identity_sources=[DomainIdentitySource(domain_name=domain, display_name=domain)],
            )
        ),
        409,
        "conflict",
    )

    unknown = IdentitySource(
        odata_type="#microsoft.graph.notAnIdentitySource",
        additional_data={"domainName": ctx.domain("unknown"), "displayName": "unknown"},
    )
    await expect_error(
        "unknown identitySource @odata.type",
        ctx.orgs.post(ConnectedOrganization(display_name=ctx.name("unknown type"), identity_sources=[unknown])),
        400,
    )

    await expect_error(
        "bad $filter",
        ctx.orgs.get(RequestConfiguration(query_parameters=ListParams(filter="displayName eq"))),
        400,
    )
    await expect_error(
        "$filter on an unknown property",
        ctx.orgs.get(RequestConfiguration(query_parameters=ListParams(filter="noSuchProperty eq 'x'"))),
        400,
    )


# ---------------------------------------------------------------------------------------------
# delete


async def check_delete(ctx: Context) -> None:
    for name, org_id in list(ctx.created.items()):
        await ctx.item(org_id).delete()
        del ctx.created[name]
        await expect_error(f"get deleted {name!r}", ctx.item(org_id).get(), 404, "itemNotFound")
    n = await ctx.orgs.count.get(
        RequestConfiguration(query_parameters=CountParams(filter=f"startswith(displayName,'{ctx.name('')}')"))
    )
    check(n == 0, f"after delete: /$count is {n}")


# ---------------------------------------------------------------------------------------------
# catalogs


async def check_catalogs(ctx: Context) -> None:
    name = ctx.name("catalog")
    created = await ctx.catalogs.post(
        AccessPackageCatalog(display_name=name, description="made by the SDK", is_externally_visible=False)
    )
    check(created is not None and created.id, "catalog create: no id")
    ctx.catalog_ids.append(created.id)
    check(created.catalog_type == AccessPackageCatalogType.UserManaged, f"catalog type {created.catalog_type!r}")
    check(created.state == AccessPackageCatalogState.Published, f"catalog state {created.state!r}")
    check(created.is_externally_visible is False, "catalog isExternallyVisible")
    item = ctx.catalogs.by_access_package_catalog_id(created.id)
    got = await item.get()
    check(got.display_name == name and got.created_date_time is not None, "catalog get")
    page = await ctx.catalogs.get(
        RequestConfiguration(
            query_parameters=CatalogListParams(filter=f"contains(tolower(displayName),'{ctx.tag}')", count=True)
        )
    )
    check(page.odata_count == 1 and page.value[0].id == created.id, f"catalog filter: {page.value!r}")
    general = await ctx.catalogs.get(
        RequestConfiguration(query_parameters=CatalogListParams(filter="catalogType eq 'serviceDefault'"))
    )
    check(len(general.value) == 1 and general.value[0].display_name == "General", "the General catalog")
    await item.patch(AccessPackageCatalog(state=AccessPackageCatalogState.Unpublished, is_externally_visible=True))
    got = await item.get()
    check(got.state == AccessPackageCatalogState.Unpublished and got.is_externally_visible, "catalog patch")
    check(got.display_name == name, "catalog patch kept the name")
    await expect_error(
        "delete the General catalog",
        ctx.catalogs.by_access_package_catalog_id(general.value[0].id).delete(),
        409,
        "conflict",
    )
    await item.delete()
    ctx.catalog_ids.remove(created.id)
    await expect_error("get a deleted catalog", item.get(), 404, "itemNotFound")


async def check_packages_and_policies(ctx: Context) -> None:
    em = ctx.em
    catalog = await ctx.catalogs.post(AccessPackageCatalog(display_name=ctx.name("package catalog")))
    group = await ctx.client.groups.post(
        Group(display_name=ctx.name("consultants"), mail_nickname=ctx.tag + "grp", security_enabled=True, mail_enabled=False)
    )
    # Deleted newest first: the catalog (and with it its resources) before the group it holds.
    ctx.cleanup_paths.insert(0, ctx.client.groups.by_group_id(group.id))
    ctx.cleanup_paths.insert(0, ctx.catalogs.by_access_package_catalog_id(catalog.id))
    added = await em.resource_requests.post(
        AccessPackageResourceRequest(
            request_type=AccessPackageRequestType.AdminAdd,
            resource=AccessPackageResource(origin_id=group.id, origin_system="AadGroup"),
            catalog=AccessPackageCatalog(id=catalog.id),
        )
    )
    check(added.state == AccessPackageRequestState.Delivered, f"resource request state {added.state!r}")
    resources = await em.catalogs.by_access_package_catalog_id(catalog.id).resources.get(
        RequestConfiguration(
            query_parameters=ResourcesRequestBuilder.ResourcesRequestBuilderGetQueryParameters(expand=["roles", "scopes"])
        )
    )
    check(len(resources.value) == 1, f"catalog resources: {resources.value!r}")
    resource = resources.value[0]
    member = next(r for r in resource.roles if r.display_name == "Member")
    check(member.origin_id == f"Member_{group.id}", f"role originId {member.origin_id!r}")
    root = resource.scopes[0]
    check(root.is_root_scope, "root scope")

    package = await em.access_packages.post(
        AccessPackage(display_name=ctx.name("consulting"), description="via the SDK", catalog=AccessPackageCatalog(id=catalog.id))
    )
    package_item = em.access_packages.by_access_package_id(package.id)
    ctx.cleanup_paths.insert(0, package_item)
    role_scope = await package_item.resource_role_scopes.post(
        AccessPackageResourceRoleScope(
            role=AccessPackageResourceRole(
                origin_id=member.origin_id, origin_system="AadGroup", resource=AccessPackageResource(id=resource.id)
            ),
            scope=AccessPackageResourceScope(id=root.id),
        )
    )
    check(role_scope.id == f"{member.id}_{root.id}", f"role scope id {role_scope.id!r}")
    expanded = await package_item.get(
        RequestConfiguration(
            query_parameters=AccessPackageItemRequestBuilder.AccessPackageItemRequestBuilderGetQueryParameters(
                expand=["resourceRoleScopes($expand=role,scope)", "catalog"]
            )
        )
    )
    check(len(expanded.resource_role_scopes) == 1, "expanded role scopes")
    check(expanded.resource_role_scopes[0].role.display_name == "Member", "expanded role")
    check(expanded.catalog.id == catalog.id, "expanded catalog")

    policy = await em.assignment_policies.post(
        AccessPackageAssignmentPolicy(
            display_name=ctx.name("members"),
            description="members request for a year",
            allowed_target_scope=AllowedTargetScope.AllMemberUsers,
            expiration=ExpirationPattern(type=ExpirationPatternType.AfterDuration, duration=timedelta(days=365)),
            requestor_settings=AccessPackageAssignmentRequestorSettings(enable_targets_to_self_add_access=True),
            request_approval_settings=AccessPackageAssignmentApprovalSettings(
                is_approval_required_for_add=False, is_requestor_justification_required=True, stages=[]
            ),
            access_package=AccessPackage(id=package.id),
        )
    )
    policy_item = em.assignment_policies.by_access_package_assignment_policy_id(policy.id)
    ctx.cleanup_paths.insert(0, policy_item)
    check(policy.allowed_target_scope == AllowedTargetScope.AllMemberUsers, f"scope {policy.allowed_target_scope!r}")
    check(policy.expiration.duration == timedelta(days=365), f"duration {policy.expiration.duration!r}")

    # PUT: read, change, send the whole policy back.
    current = await policy_item.get()
    current.display_name = ctx.name("members approved")
    current.access_package = AccessPackage(id=package.id)
    current.request_approval_settings = AccessPackageAssignmentApprovalSettings(
        is_approval_required_for_add=True,
        is_requestor_justification_required=True,
        stages=[
            AccessPackageApprovalStage(
                duration_before_automatic_denial=timedelta(days=7),
                primary_approvers=[SingleUser(user_id=ctx.member_id)],
            )
        ],
    )
    replaced = await policy_item.put(current)
    check(replaced.display_name == ctx.name("members approved"), "PUT: name")
    stage = replaced.request_approval_settings.stages[0]
    check(stage.duration_before_automatic_denial == timedelta(days=7), f"PUT: {stage.duration_before_automatic_denial!r}")
    check(isinstance(stage.primary_approvers[0], SingleUser), "PUT: approver type")
    check(replaced.created_date_time == policy.created_date_time, "PUT kept createdDateTime")

    await expect_error("delete a package with a policy", package_item.delete(), 409, "conflict")
    await expect_error(
        "delete a group a catalog holds", ctx.client.groups.by_group_id(group.id).delete(), 409, "conflict"
    )
    for item in list(ctx.cleanup_paths):
        await item.delete()
        ctx.cleanup_paths.remove(item)
    await expect_error("get the deleted package", package_item.get(), 404, "itemNotFound")


async def cleanup(ctx: Context) -> None:
    """Best effort after a failure: leave nothing behind."""
    for item in ctx.cleanup_paths:
        try:
            await item.delete()
        except Exception:  # noqa: BLE001 - the failure that matters was already reported
            pass
    for catalog_id in ctx.catalog_ids:
        try:
            await ctx.catalogs.by_access_package_catalog_id(catalog_id).delete()
        except Exception:  # noqa: BLE001 - the failure that matters was already reported
            pass
    for org_id in ctx.created.values():
        try:
            await ctx.item(org_id).delete()
        except Exception:  # noqa: BLE001 - the failure that matters was already reported
            pass


async def run(args: argparse.Namespace) -> int:
    ctx = Context(args)
    groups = [
        check_create,
        check_read,
        check_update,
        check_internal_sponsors,
        check_external_sponsors,
        check_errors,
        check_delete,
        check_catalogs,
        check_packages_and_policies,
    ]
    try:
        for group in groups:
            before = CHECKS
            await group(ctx)
            print(f"  {group.__name__}: {CHECKS - before} checks passed")
    except Exception as e:
        if isinstance(e, ODataError):
            err = e.error
            print(
                f"FAIL in {group.__name__}: unexpected HTTP {e.response_status_code} "
                f"{err.code if err else ''}: {err.message if err else e}",
                file=sys.stderr,
            )
        else:
            print(f"FAIL in {group.__name__}: {e}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        await cleanup(ctx)
        print(f"sdk compat: {CHECKS} checks passed, 1 failed", file=sys.stderr)
        return 1
    print(f"sdk compat: {CHECKS} checks passed")
    return 0


def main() -> int:
    if not __debug__:
        sys.exit("sdk_compat.py relies on assert; run it without -O")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080/v1.0")
    p.add_argument("--token", required=True, help="bearer token with connected-organization write access")
    p.add_argument("--member-id", required=True, help="id of a member user (internal sponsor)")
    p.add_argument("--guest-id", required=True, help="id of a guest user (external sponsor)")
    p.add_argument("--verbose", action="store_true", help="log every HTTP request and its status")
    args = p.parse_args()
    if args.verbose:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        logging.getLogger("httpx").setLevel(logging.INFO)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
