"""Management API: audiences and computed traits (create, change, preview, members with CSV
export, changes, recompute), a list audience's members added and removed, and a profile's
memberships with their history.

Both kinds share one set of routes, under ``/workspaces/{workspace}/audiences`` and
``/workspaces/{workspace}/computed-traits``. Bodies are decoded with exact decimals, so a
threshold like ``0.1`` means what it says; bad input answers 400 with ``problems`` naming each
field (``{"path": "condition.count.value", "message": ...}``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, Field

from headwater import audiences
from headwater.access import MASK
from headwater.api.bodies import Body, documented, read_body
from headwater.api.masking import classifier_of, computed_values, mask_values_of
from headwater.api.params import Cursor, Id, Moment
from headwater.api.scope import SCOPED, Allowed
from headwater.audiences import (
    ChangesPage,
    ChangeTotalView,
    ComputationDeletedView,
    ComputationView,
    MembersChangedView,
    MembershipsView,
    MembersPage,
    PreviewView,
    RecomputedView,
    RecomputeStepView,
)
from headwater.errors import NotFound
from headwater.spec import format_timestamp

__all__ = ["router"]

router = APIRouter(tags=["audiences"], dependencies=SCOPED)
_KINDS = {"audiences": "audience", "computed-traits": "trait"}


class ComputationIn(Body):
    key: str
    name: str = Field(min_length=1)
    description: str = ""
    subject: Literal["user", "account"] = "user"
    definition: dict[str, Any]
    destinations: list[Id] = Field(default_factory=list)
    enabled: bool = True


class ComputationChange(Body):
    name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    definition: dict[str, Any] | None = None
    destinations: list[Id] | None = None
    enabled: bool | None = None


class PreviewIn(Body):
    definition: dict[str, Any]
    subject: Literal["user", "account"] = "user"
    sample: int = Field(default=20, ge=0, le=1000)


def _one_reference(member: dict[str, str]) -> dict[str, str]:
    """A member named by exactly one of its profile id (a merged-away one names the profile
    it was merged into) or an identifier, not empty."""
    if len(member) != 1 or not set(member) <= set(audiences.REFERENCES):
        raise ValueError(f"name a member by one of {', '.join(audiences.REFERENCES)}")
    if not next(iter(member.values())).strip():
        raise ValueError("the value is empty")
    return member


class MembersIn(Body):
    members: list[Annotated[dict[str, str], AfterValidator(_one_reference)]] = Field(
        min_length=1,
        max_length=audiences.MAX_MEMBERS,
        description="each {reference: value}, the reference one of profile_id, user_id,"
        " anonymous_id, email",
    )


def _routes(path: str, kind: str) -> None:
    base = f"/workspaces/{{workspace}}/{path}"
    noun = "audience" if kind == "audience" else "computed trait"
    one = f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"

    @router.get(base, name=f"list {path}", summary=f"List {path}")
    async def list_all(workspace: str, runtime: Allowed) -> list[ComputationView]:
        return await audiences.list_computations(
            runtime.database.engine, workspace=workspace, kind=kind
        )

    @router.post(
        base,
        status_code=201,
        name=f"create {noun}",
        summary=f"Create {one}",
        openapi_extra=documented(ComputationIn),
    )
    async def create(workspace: str, request: Request, runtime: Allowed) -> ComputationView:
        """Keys are snake_case, unique across audiences and computed traits, and never
        change. The first recompute runs within a scheduler tick (or ``POST .../recompute``)."""
        body = await read_body(request, ComputationIn)
        return await audiences.create(
            runtime.database.engine, workspace=workspace, kind=kind, **body.model_dump()
        )

    @router.post(
        f"{base}/preview",
        name=f"preview {noun}",
        summary=f"Preview {one}",
        openapi_extra=documented(PreviewIn),
    )
    async def preview(workspace: str, request: Request, runtime: Allowed) -> PreviewView:
        """Size and sample members of a definition, computed now, without saving it."""
        body = await read_body(request, PreviewIn)
        if kind == "trait":
            mask_values_of(request.scope, body.definition)
        return await audiences.preview(
            runtime.database.engine,
            workspace=workspace,
            kind=kind,
            definition=body.definition,
            subject=body.subject,
            sample=body.sample,
        )

    @router.get(f"{base}/{{key}}", name=f"get {noun}", summary=f"One {noun}")
    async def get(workspace: str, key: str, runtime: Allowed) -> ComputationView:
        return await audiences.get(runtime.database.engine, workspace=workspace, kind=kind, key=key)

    @router.patch(
        f"{base}/{{key}}",
        name=f"change {noun}",
        summary=f"Change {one}",
        openapi_extra=documented(ComputationChange),
    )
    async def change(
        workspace: str, key: str, request: Request, runtime: Allowed
    ) -> ComputationView:
        """A new definition is recomputed at once by the scheduler; members that no longer
        match exit, new ones enter."""
        body = await read_body(request, ComputationChange)
        return await audiences.update(
            runtime.database.engine,
            workspace=workspace,
            kind=kind,
            key=key,
            changes=body.model_dump(exclude_none=True),
        )

    @router.delete(f"{base}/{{key}}", name=f"delete {noun}", summary=f"Delete {one}")
    async def delete(workspace: str, key: str, runtime: Allowed) -> ComputationDeletedView:
        """Members exit (cause ``deleted``); 409 while another audience names it."""
        return await audiences.delete(
            runtime.database.engine, workspace=workspace, kind=kind, key=key
        )

    @router.get(
        f"{base}/{{key}}/members",
        name=f"{noun} members",
        response_model=MembersPage,
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def members(
        workspace: str,
        key: str,
        runtime: Allowed,
        request: Request,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 100,
        format: Literal["json", "csv"] = "json",
    ) -> MembersPage | StreamingResponse:
        """Members (values, for a computed trait) by profile id; pass ``next_cursor`` back as
        ``cursor`` for the next page. ``format=csv`` streams every member as CSV."""
        engine = runtime.database.engine
        if format == "json":
            return await audiences.members(
                engine, workspace=workspace, kind=kind, key=key, cursor=cursor, limit=limit
            )
        # an unknown key answers 404 here, before the stream's 200 goes out
        await audiences.get(engine, workspace=workspace, kind=kind, key=key)

        classifier = classifier_of(request.scope)
        hide_email = classifier is not None
        hide_value = classifier is not None and bool(computed_values(request.scope, classifier))

        async def rows() -> AsyncIterator[str]:
            yield _csv(["profile_id", "user_id", "email", "value", "since"])
            after = None
            while True:
                page = await audiences.members(
                    engine, workspace=workspace, kind=kind, key=key, cursor=after, limit=5000
                )
                for m in page["data"]:
                    value = m["value"]
                    yield _csv(
                        [
                            m["profile_id"],
                            m["user_id"] or "",
                            MASK if hide_email and m["email"] else m["email"] or "",
                            MASK
                            if hide_value
                            else audiences.encode_json(value)
                            if not isinstance(value, str)
                            else value,
                            format_timestamp(m["since"]),
                        ]
                    )
                after = page["next_cursor"]
                if after is None:
                    return

        return StreamingResponse(
            rows(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{key}.csv"'},
        )

    @router.get(f"{base}/{{key}}/changes", name=f"{noun} changes")
    async def changes(
        workspace: str,
        key: str,
        runtime: Allowed,
        before: Cursor | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> ChangesPage:
        """Entered, exited and updated, newest first, with time and cause; ``before`` pages."""
        return await audiences.changes(
            runtime.database.engine,
            workspace=workspace,
            kind=kind,
            key=key,
            before=before,
            limit=limit,
        )

    @router.get(f"{base}/{{key}}/changes/totals", name=f"{noun} change totals")
    async def change_totals(
        workspace: str,
        key: str,
        runtime: Allowed,
        since: Moment | None = None,
        until: Moment | None = None,
        interval: audiences.Interval = "day",
    ) -> list[ChangeTotalView]:
        """Entered, exited and updated per day or hour (cut in UTC), oldest first, every
        bucket from the one holding ``since`` (default: 30 days before ``until``) to the one
        before ``until`` (default: now), zero where nothing changed; counts only, no profile."""
        return await audiences.change_totals(
            runtime.database.engine,
            workspace=workspace,
            kind=kind,
            key=key,
            since=since,
            until=until,
            interval=interval,
        )

    @router.post(f"{base}/{{key}}/recompute", name=f"recompute {noun}")
    async def recompute(workspace: str, key: str, runtime: Allowed) -> RecomputedView:
        """Recompute now, in SQL over every profile; returns the counts of changes."""
        await audiences.get(runtime.database.engine, workspace=workspace, kind=kind, key=key)
        done = await audiences.recompute(runtime.database.engine, workspace=workspace, key=key)
        return done[0]


for _path, _kind in _KINDS.items():
    _routes(_path, _kind)


_MEMBERS = "/workspaces/{workspace}/audiences/{key}/members"
_CHANGED_RESPONSES: dict[int | str, dict[str, Any]] = {
    207: {
        "model": MembersChangedView,
        "description": "some members were found and changed, the others were not found",
    },
    404: {"description": "no such audience, or not one member was found"},
    409: {"description": "a computed audience: its members cannot be set"},
}


async def _change_members(
    workspace: str,
    key: str,
    request: Request,
    response: Response,
    runtime: Allowed,
    action: Literal["add", "remove"],
) -> MembersChangedView:
    body = await read_body(request, MembersIn)
    done = await audiences.change_members(
        runtime.database.engine,
        workspace=workspace,
        key=key,
        action=action,
        members=[next(iter(m.items())) for m in body.members],
    )
    if done["problems"] and not done["results"]:
        raise NotFound(
            "members_not_found",
            f"no member found: {done['problems'][0]['message']}"
            + (f" (and {len(done['problems']) - 1} more)" if len(done["problems"]) > 1 else ""),
            problems=done["problems"],
        )
    if done["problems"]:
        response.status_code = 207
    return done


@router.post(
    _MEMBERS,
    name="add list audience members",
    openapi_extra=documented(MembersIn),
    responses=_CHANGED_RESPONSES,
)
async def add_members(
    workspace: str, key: str, request: Request, response: Response, runtime: Allowed
) -> MembersChangedView:
    """Add up to 1,000 members to a list audience, each named by ``profile_id``, ``user_id``,
    ``anonymous_id`` or ``email``; one already in is ``unchanged``. 200 when every one was
    found; 207 when some were not (those found are added all the same; ``problems`` names the
    others, ``members.N``); 404 when none was."""
    return await _change_members(workspace, key, request, response, runtime, "add")


@router.post(
    _MEMBERS + "/remove",
    name="remove list audience members",
    openapi_extra=documented(MembersIn),
    responses=_CHANGED_RESPONSES,
)
async def remove_members(
    workspace: str, key: str, request: Request, response: Response, runtime: Allowed
) -> MembersChangedView:
    """Remove up to 1,000 members from a list audience, named as for adding; one not in is
    ``unchanged``. Statuses as for adding."""
    return await _change_members(workspace, key, request, response, runtime, "remove")


def _csv(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(fields)
    return out.getvalue()


@router.get("/workspaces/{workspace}/recompute-order")
async def recompute_order(workspace: str, runtime: Allowed) -> list[list[RecomputeStepView]]:
    """Every audience and computed trait in the rounds a full recompute follows (computed traits
    first, then each audience after those it names): recomputing each key in this order, as
    ``headwater audiences recompute`` does to show its progress, equals recomputing all."""
    return await audiences.recompute_order(runtime.database.engine, workspace=workspace)


@router.get("/workspaces/{workspace}/profiles/{profile_id}/audiences")
async def profile_memberships(
    workspace: str,
    profile_id: str,
    runtime: Allowed,
    before: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MembershipsView:
    """A profile's audiences (since when), computed-trait values, and the history of
    changes, newest first (``before``: the ``next_cursor`` of the previous page)."""
    return await audiences.memberships(
        runtime.database.engine,
        workspace=workspace,
        profile_id=profile_id,
        before=before,
        limit=limit,
    )
