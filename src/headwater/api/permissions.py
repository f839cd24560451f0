"""The one table of management route to permission: every route of the management API
(``/api/v1``) is a row, checked before the route runs (``headwater.api.auth``). A route
missing from the table is refused (403) and fails ``tests/api/test_permissions.py``, which
also checks every row against every role.

A route that changes something names its audit action, ``resource.verb``; a read (every GET,
and the POST previews) names none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from headwater.access import Permission as P

__all__ = ["PREFIX", "ROUTES", "Rule", "check_table", "rule_of"]

PREFIX: Final = "/api/v1"

_W = "/workspaces/{workspace}"


@dataclass(frozen=True, slots=True)
class Rule:
    """What a route needs, and the audit action its successful changes record."""

    permission: P
    action: str | None = None


def _read(permission: P) -> Rule:
    return Rule(permission)


def _change(permission: P, action: str) -> Rule:
    return Rule(permission, action)


ROUTES: Final[dict[tuple[str, str], Rule]] = {
    # Workspaces and sources.
    ("GET", "/workspaces"): _read(P.AUTHENTICATED),
    ("GET", "/processing/backlog"): _read(P.AUTHENTICATED),
    ("POST", "/workspaces"): _change(P.INSTANCE_OWNER, "workspace.create"),
    ("GET", f"{_W}/sources"): _read(P.SOURCES_READ),
    ("POST", f"{_W}/sources"): _change(P.SOURCES_WRITE, "source.create"),
    ("GET", f"{_W}/sources/{{source_id}}"): _read(P.SOURCES_READ),
    ("PATCH", f"{_W}/sources/{{source_id}}"): _change(P.SOURCES_WRITE, "source.update"),
    ("GET", f"{_W}/sources/{{source_id}}/plugins"): _read(P.SOURCES_READ),
    ("PUT", f"{_W}/sources/{{source_id}}/plugins"): _change(
        P.SOURCES_WRITE, "source.plugins_update"
    ),
    ("GET", f"{_W}/personal-keys"): _read(P.WORKSPACE_READ),
    # File imports into a source: their samples and row errors hold the file's data.
    ("POST", f"{_W}/imports"): _change(P.SOURCES_WRITE, "import.upload"),
    ("GET", f"{_W}/imports"): _read(P.DATA_READ),
    ("GET", f"{_W}/imports/{{import_id}}"): _read(P.DATA_READ),
    ("POST", f"{_W}/imports/{{import_id}}/dry-run"): _read(P.SOURCES_WRITE),
    ("POST", f"{_W}/imports/{{import_id}}/start"): _change(P.SOURCES_WRITE, "import.start"),
    # Webhook sources.
    ("GET", f"{_W}/hook-presets"): _read(P.SOURCES_READ),
    ("POST", f"{_W}/webhook-sources"): _change(P.SOURCES_WRITE, "source.create"),
    ("GET", f"{_W}/sources/{{source_id}}/hook"): _read(P.SOURCES_READ),
    ("PUT", f"{_W}/sources/{{source_id}}/hook"): _change(P.SOURCES_WRITE, "source.hook.update"),
    ("POST", f"{_W}/sources/{{source_id}}/hook/rotate"): _change(
        P.SOURCES_WRITE, "source.hook.rotate"
    ),
    ("POST", f"{_W}/sources/{{source_id}}/hook/test"): _read(P.SOURCES_READ),
    ("GET", f"{_W}/sources/{{source_id}}/hook/requests"): _read(P.DATA_READ),
    ("GET", f"{_W}/sources/{{source_id}}/hook/requests/live"): _read(P.DATA_READ),
    # Stored data.
    ("GET", f"{_W}/events/{{message_id}}"): _read(P.DATA_READ),
    ("GET", f"{_W}/sources/{{source_id}}/events"): _read(P.DATA_READ),
    ("GET", f"{_W}/sources/{{source_id}}/live"): _read(P.DATA_READ),
    ("GET", f"{_W}/rejections"): _read(P.DATA_READ),
    ("GET", f"{_W}/stats"): _read(P.DATA_READ),
    ("GET", f"{_W}/failures"): _read(P.DATA_READ),
    ("POST", f"{_W}/failures/replay"): _change(P.FAILURES_REPLAY, "failures.replay"),
    # PII rules and their inbox.
    ("GET", f"{_W}/pii-rules"): _read(P.PRIVACY_READ),
    ("POST", f"{_W}/pii-rules"): _change(P.PRIVACY_WRITE, "pii_rule.create"),
    ("POST", f"{_W}/pii-rules/test"): _read(P.PRIVACY_READ),
    ("GET", f"{_W}/pii-rules/{{rule_id}}"): _read(P.PRIVACY_READ),
    ("PATCH", f"{_W}/pii-rules/{{rule_id}}"): _change(P.PRIVACY_WRITE, "pii_rule.update"),
    ("DELETE", f"{_W}/pii-rules/{{rule_id}}"): _change(P.PRIVACY_WRITE, "pii_rule.delete"),
    ("GET", f"{_W}/pii-inbox"): _read(P.PRIVACY_READ),
    ("POST", f"{_W}/pii-inbox/classify"): _change(P.PRIVACY_WRITE, "pii_rule.create"),
    ("POST", f"{_W}/pii-inbox/dismiss"): _change(P.PRIVACY_WRITE, "pii_inbox.dismiss"),
    # Reverse ETL: models and syncs (a source of data, configured like sources). The
    # previews run a query with a limit and change nothing, but reach the customer's
    # database with the stored credentials: they need the right to configure sources.
    ("GET", f"{_W}/reverse-etl/models"): _read(P.SOURCES_READ),
    ("POST", f"{_W}/reverse-etl/models"): _change(P.SOURCES_WRITE, "retl_model.create"),
    ("POST", f"{_W}/reverse-etl/models/preview"): _read(P.SOURCES_WRITE),
    ("GET", f"{_W}/reverse-etl/models/{{model_id}}"): _read(P.SOURCES_READ),
    ("PATCH", f"{_W}/reverse-etl/models/{{model_id}}"): _change(
        P.SOURCES_WRITE, "retl_model.update"
    ),
    ("DELETE", f"{_W}/reverse-etl/models/{{model_id}}"): _change(
        P.SOURCES_WRITE, "retl_model.delete"
    ),
    ("POST", f"{_W}/reverse-etl/models/{{model_id}}/preview"): _read(P.SOURCES_WRITE),
    ("GET", f"{_W}/reverse-etl/syncs"): _read(P.SOURCES_READ),
    ("POST", f"{_W}/reverse-etl/syncs"): _change(P.SOURCES_WRITE, "retl_sync.create"),
    ("GET", f"{_W}/reverse-etl/syncs/{{sync_id}}"): _read(P.SOURCES_READ),
    ("PATCH", f"{_W}/reverse-etl/syncs/{{sync_id}}"): _change(P.SOURCES_WRITE, "retl_sync.update"),
    ("DELETE", f"{_W}/reverse-etl/syncs/{{sync_id}}"): _change(P.SOURCES_WRITE, "retl_sync.delete"),
    ("POST", f"{_W}/reverse-etl/syncs/{{sync_id}}/run"): _change(P.SOURCES_WRITE, "retl_sync.run"),
    ("GET", f"{_W}/reverse-etl/syncs/{{sync_id}}/runs"): _read(P.SOURCES_READ),
    ("GET", f"{_W}/reverse-etl/syncs/{{sync_id}}/runs/{{run_id}}"): _read(P.SOURCES_READ),
    # Privacy: retention.
    ("GET", f"{_W}/retention"): _read(P.PRIVACY_READ),
    ("PUT", f"{_W}/retention"): _change(P.PRIVACY_WRITE, "retention.update"),
    ("POST", f"{_W}/retention/dry-run"): _read(P.PRIVACY_READ),
    ("POST", f"{_W}/retention/apply"): _change(P.PRIVACY_WRITE, "retention.apply"),
    # Profiles and identity.
    ("POST", f"{_W}/access-tokens"): _change(P.PROFILE_TOKENS_WRITE, "access_token.create"),
    ("GET", f"{_W}/profiles"): _read(P.PROFILES_READ),
    ("GET", f"{_W}/profiles/{{profile_id}}"): _read(P.PROFILES_READ),
    ("GET", f"{_W}/profiles/{{profile_id}}/events"): _read(P.PROFILES_READ),
    ("GET", f"{_W}/identity-rules"): _read(P.PROFILES_READ),
    ("PUT", f"{_W}/identity-rules"): _change(P.IDENTITY_WRITE, "identity_rules.update"),
    # Destinations and delivery.
    ("GET", "/destination-kinds"): _read(P.AUTHENTICATED),
    ("GET", f"{_W}/destinations"): _read(P.DESTINATIONS_READ),
    ("POST", f"{_W}/destinations"): _change(P.DESTINATIONS_WRITE, "destination.create"),
    ("GET", f"{_W}/destinations/{{destination_id}}"): _read(P.DESTINATIONS_READ),
    ("PATCH", f"{_W}/destinations/{{destination_id}}"): _change(
        P.DESTINATIONS_WRITE, "destination.update"
    ),
    ("DELETE", f"{_W}/destinations/{{destination_id}}"): _change(
        P.DESTINATIONS_WRITE, "destination.delete"
    ),
    ("POST", f"{_W}/destinations/{{destination_id}}/enable"): _change(
        P.DESTINATIONS_WRITE, "destination.enable"
    ),
    ("POST", f"{_W}/destinations/{{destination_id}}/disable"): _change(
        P.DESTINATIONS_WRITE, "destination.disable"
    ),
    ("POST", f"{_W}/destinations/{{destination_id}}/test"): _change(
        P.DESTINATIONS_WRITE, "destination.test"
    ),
    ("GET", f"{_W}/destinations/{{destination_id}}/stats"): _read(P.DESTINATIONS_READ),
    ("GET", f"{_W}/destinations/{{destination_id}}/health"): _read(P.DESTINATIONS_READ),
    ("GET", f"{_W}/destinations/{{destination_id}}/errors"): _read(P.DESTINATIONS_READ),
    ("GET", f"{_W}/destinations/{{destination_id}}/dead-letters"): _read(P.DESTINATIONS_READ),
    ("POST", f"{_W}/destinations/{{destination_id}}/replay"): _change(
        P.DESTINATIONS_WRITE, "destination.replay"
    ),
    # Tracking plans.
    # Journeys.
    ("GET", "/journey-node-types"): _read(P.AUTHENTICATED),
    ("GET", f"{_W}/journeys"): _read(P.JOURNEYS_READ),
    ("POST", f"{_W}/journeys"): _change(P.JOURNEYS_WRITE, "journey.create"),
    ("POST", f"{_W}/journeys/import"): _change(P.JOURNEYS_WRITE, "journey.import"),
    ("GET", f"{_W}/journeys/{{key}}"): _read(P.JOURNEYS_READ),
    ("PATCH", f"{_W}/journeys/{{key}}"): _change(P.JOURNEYS_WRITE, "journey.update"),
    ("DELETE", f"{_W}/journeys/{{key}}"): _change(P.JOURNEYS_WRITE, "journey.delete"),
    ("PUT", f"{_W}/journeys/{{key}}/draft"): _change(P.JOURNEYS_WRITE, "journey.save_draft"),
    ("POST", f"{_W}/journeys/{{key}}/publish"): _change(P.JOURNEYS_WRITE, "journey.publish"),
    ("POST", f"{_W}/journeys/{{key}}/pause"): _change(P.JOURNEYS_WRITE, "journey.pause"),
    ("POST", f"{_W}/journeys/{{key}}/resume"): _change(P.JOURNEYS_WRITE, "journey.resume"),
    ("POST", f"{_W}/journeys/{{key}}/archive"): _change(P.JOURNEYS_WRITE, "journey.archive"),
    ("GET", f"{_W}/journeys/{{key}}/versions"): _read(P.JOURNEYS_READ),
    ("GET", f"{_W}/journeys/{{key}}/versions/{{version}}"): _read(P.JOURNEYS_READ),
    ("GET", f"{_W}/journeys/{{key}}/export"): _read(P.JOURNEYS_READ),
    ("POST", f"{_W}/journeys/{{key}}/start"): _change(P.JOURNEYS_WRITE, "journey.start"),
    ("GET", f"{_W}/journeys/{{key}}/stats"): _read(P.JOURNEYS_READ),
    # A test run changes nothing (api/journeys.py): a read, like an audience's preview.
    ("POST", f"{_W}/journeys/{{key}}/test-run"): _read(P.JOURNEYS_READ),
    ("GET", f"{_W}/profiles/{{profile_id}}/journeys"): _read(P.PROFILES_READ),
    ("POST", f"{_W}/tracking-plans/import"): _change(P.PLANS_WRITE, "tracking_plan.import"),
    ("GET", f"{_W}/tracking-plans"): _read(P.PLANS_READ),
    ("POST", f"{_W}/tracking-plans"): _change(P.PLANS_WRITE, "tracking_plan.create"),
    ("GET", f"{_W}/tracking-plans/{{slug}}"): _read(P.PLANS_READ),
    ("PUT", f"{_W}/tracking-plans/{{slug}}"): _change(P.PLANS_WRITE, "tracking_plan.update"),
    ("DELETE", f"{_W}/tracking-plans/{{slug}}"): _change(P.PLANS_WRITE, "tracking_plan.delete"),
    ("GET", f"{_W}/tracking-plans/{{slug}}/versions"): _read(P.PLANS_READ),
    ("GET", f"{_W}/tracking-plans/{{slug}}/diff"): _read(P.PLANS_READ),
    ("GET", f"{_W}/tracking-plans/{{slug}}/export"): _read(P.PLANS_READ),
    ("GET", f"{_W}/tracking-plans/{{slug}}/codegen"): _read(P.PLANS_READ),
    ("GET", f"{_W}/tracking-plan-sources"): _read(P.PLANS_READ),
    ("GET", f"{_W}/sources/{{source_id}}/tracking-plan"): _read(P.PLANS_READ),
    ("PUT", f"{_W}/sources/{{source_id}}/tracking-plan"): _change(
        P.PLANS_WRITE, "tracking_plan.connect"
    ),
    ("DELETE", f"{_W}/sources/{{source_id}}/tracking-plan"): _change(
        P.PLANS_WRITE, "tracking_plan.disconnect"
    ),
    ("GET", f"{_W}/violations"): _read(P.PLANS_READ),
    ("GET", f"{_W}/quarantine"): _read(P.PLANS_READ),
    ("POST", f"{_W}/quarantine/replay"): _change(P.PLANS_WRITE, "quarantine.replay"),
    ("POST", f"{_W}/quarantine/forward"): _change(P.PLANS_WRITE, "quarantine.forward"),
    ("GET", f"{_W}/sources/{{source_id}}/observed-schema"): _read(P.PLANS_READ),
    ("GET", f"{_W}/sources/{{source_id}}/observed-schema/plan"): _read(P.PLANS_READ),
    # Audiences and computed traits.
    ("GET", f"{_W}/audiences"): _read(P.AUDIENCES_READ),
    ("POST", f"{_W}/audiences"): _change(P.AUDIENCES_WRITE, "audience.create"),
    ("POST", f"{_W}/audiences/preview"): _read(P.AUDIENCES_READ),
    ("GET", f"{_W}/audiences/{{key}}"): _read(P.AUDIENCES_READ),
    ("PATCH", f"{_W}/audiences/{{key}}"): _change(P.AUDIENCES_WRITE, "audience.update"),
    ("DELETE", f"{_W}/audiences/{{key}}"): _change(P.AUDIENCES_WRITE, "audience.delete"),
    ("GET", f"{_W}/audiences/{{key}}/members"): _read(P.AUDIENCES_READ),
    ("POST", f"{_W}/audiences/{{key}}/members"): _change(P.AUDIENCES_WRITE, "audience.members_add"),
    ("POST", f"{_W}/audiences/{{key}}/members/remove"): _change(
        P.AUDIENCES_WRITE, "audience.members_remove"
    ),
    ("GET", f"{_W}/audiences/{{key}}/changes"): _read(P.AUDIENCES_READ),
    ("GET", f"{_W}/audiences/{{key}}/changes/totals"): _read(P.AUDIENCES_READ),
    ("POST", f"{_W}/audiences/{{key}}/recompute"): _change(P.AUDIENCES_WRITE, "audience.recompute"),
    ("GET", f"{_W}/computed-traits"): _read(P.AUDIENCES_READ),
    ("POST", f"{_W}/computed-traits"): _change(P.AUDIENCES_WRITE, "computed_trait.create"),
    ("POST", f"{_W}/computed-traits/preview"): _read(P.AUDIENCES_READ),
    ("GET", f"{_W}/computed-traits/{{key}}"): _read(P.AUDIENCES_READ),
    ("PATCH", f"{_W}/computed-traits/{{key}}"): _change(P.AUDIENCES_WRITE, "computed_trait.update"),
    ("DELETE", f"{_W}/computed-traits/{{key}}"): _change(
        P.AUDIENCES_WRITE, "computed_trait.delete"
    ),
    ("GET", f"{_W}/computed-traits/{{key}}/members"): _read(P.AUDIENCES_READ),
    ("GET", f"{_W}/computed-traits/{{key}}/changes"): _read(P.AUDIENCES_READ),
    ("GET", f"{_W}/computed-traits/{{key}}/changes/totals"): _read(P.AUDIENCES_READ),
    ("POST", f"{_W}/computed-traits/{{key}}/recompute"): _change(
        P.AUDIENCES_WRITE, "computed_trait.recompute"
    ),
    ("GET", f"{_W}/recompute-order"): _read(P.AUDIENCES_READ),
    ("GET", f"{_W}/profiles/{{profile_id}}/audiences"): _read(P.AUDIENCES_READ),
    # Regulations: deletion and suppression (Segment's regulations API is also served under
    # /v1, outside this table: api/regulations.py checks the same permissions there).
    ("POST", f"{_W}/regulations"): _change(P.PRIVACY_WRITE, "regulation.create"),
    ("GET", f"{_W}/regulations"): _read(P.PRIVACY_READ),
    ("POST", f"{_W}/regulations/sources/{{source_id}}"): _change(
        P.PRIVACY_WRITE, "regulation.create"
    ),
    ("GET", f"{_W}/regulations/sources/{{source_id}}"): _read(P.PRIVACY_READ),
    ("GET", f"{_W}/regulations/{{regulate_id}}"): _read(P.PRIVACY_READ),
    ("DELETE", f"{_W}/regulations/{{regulate_id}}"): _change(P.PRIVACY_WRITE, "regulation.delete"),
    ("GET", f"{_W}/suppressions"): _read(P.PRIVACY_READ),
    # Privacy: subject access exports (a download also needs pii:read, checked by the route).
    ("POST", f"{_W}/privacy/exports"): _change(P.PRIVACY_WRITE, "subject_export.create"),
    ("GET", f"{_W}/privacy/exports"): _read(P.PRIVACY_READ),
    ("GET", f"{_W}/privacy/exports/{{export_id}}"): _read(P.PRIVACY_READ),
    ("GET", f"{_W}/privacy/exports/{{export_id}}/download"): _read(P.PRIVACY_READ),
    # Signing in and one's own account.
    ("POST", "/auth/login"): _change(P.PUBLIC, "session.login"),
    ("POST", "/auth/accept"): _change(P.PUBLIC, "user.accept"),
    ("POST", "/auth/logout"): _change(P.AUTHENTICATED, "session.logout"),
    ("GET", "/me"): _read(P.AUTHENTICATED),
    ("PUT", "/me/password"): _change(P.AUTHENTICATED, "user.password_change"),
    # The instance's people, and each workspace's members.
    ("GET", "/users"): _read(P.INSTANCE_OWNER),
    ("POST", "/users"): _change(P.INSTANCE_OWNER, "user.create"),
    ("DELETE", "/users/{user_id}"): _change(P.INSTANCE_OWNER, "user.disable"),
    ("POST", "/users/{user_id}/enable"): _change(P.INSTANCE_OWNER, "user.enable"),
    ("GET", f"{_W}/members"): _read(P.PEOPLE_READ),
    ("POST", f"{_W}/members"): _change(P.PEOPLE_WRITE, "member.add"),
    ("PATCH", f"{_W}/members/{{user_id}}"): _change(P.PEOPLE_WRITE, "member.update"),
    ("DELETE", f"{_W}/members/{{user_id}}"): _change(P.PEOPLE_WRITE, "member.remove"),
    # API tokens: one's own (people:read lists, people:write revokes, every token of the
    # workspace; a service account's token needs people:write, checked by the route).
    ("GET", f"{_W}/tokens"): _read(P.TOKENS_OWN),
    ("POST", f"{_W}/tokens"): _change(P.TOKENS_OWN, "token.create"),
    ("DELETE", f"{_W}/tokens/{{token_id}}"): _change(P.TOKENS_OWN, "token.revoke"),
    ("GET", "/me/tokens"): _read(P.AUTHENTICATED),
    ("DELETE", "/me/tokens/{token_id}"): _change(P.AUTHENTICATED, "token.revoke"),
    # The audit trail: read only, by anyone; no route changes it.
    ("GET", f"{_W}/audit"): _read(P.AUDIT_READ),
    ("GET", f"{_W}/audit/export"): _read(P.AUDIT_READ),
    ("GET", "/audit"): _read(P.INSTANCE_OWNER),
    ("GET", "/audit/export"): _read(P.INSTANCE_OWNER),
}
"""(method, route path under ``/api/v1``) → rule, for every management route."""


def rule_of(method: str, path: str) -> Rule | None:
    """The rule of a route (its method and its path under ``/api/v1``, as its router declares
    it), or None (refused)."""
    return ROUTES.get((method, path))


def check_table(routes: Iterable[tuple[str, str]]) -> None:
    """Fail fast: raise RuntimeError unless every (method, full path) of ``routes`` under
    :data:`PREFIX` is a row of :data:`ROUTES` and every row is one of them (the application
    refuses to be built with a route that has no permission)."""
    served = {
        (method, path.removeprefix(PREFIX))
        for method, path in routes
        if path.startswith(PREFIX + "/") and method != "HEAD"
    }
    unlisted = sorted(served - ROUTES.keys())
    stale = sorted(ROUTES.keys() - served)
    if unlisted or stale:
        raise RuntimeError(
            f"api/permissions.py ROUTES: routes without a row {unlisted}, rows without a route"
            f" {stale}"
        )
