"""What journeys did: a journey's figures per node and port, and a profile's journeys step by
step. Each function owns its transaction and returns a read model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.audiences import decode_json
from headwater.errors import NotFound
from headwater.journeys import instances, store
from headwater.journeys.views import InstanceView, JourneyStatsView, NodeStatsView
from headwater.profiles import lookups
from headwater.spec import format_timestamp
from headwater.storage import connected

__all__ = ["journey_stats", "profile_journeys"]


async def journey_stats(
    engine: AsyncEngine, *, workspace: str, key: str, version: int | None = None
) -> JourneyStatsView:
    """Entered, in progress, completed, failed, converted and exited by reason; per node:
    arrived, there now, out of each port, errors and the time spent there."""
    async with connected(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.journey(tx, space, key)
        if row is None:
            raise NotFound("journey_not_found", f"no journey {key!r}")
        totals = await instances.totals(tx, row.id, version)
        ports, times, here = await instances.node_counts(tx, row.id, version)
    nodes: dict[str, NodeStatsView] = {}

    def node(node_id: str) -> NodeStatsView:
        return nodes.setdefault(
            node_id,
            {
                "entered": 0,
                "here": 0,
                "ports": {},
                "errors": 0,
                "seconds_p50": None,
                "seconds_p95": None,
            },
        )

    for item in ports:
        found = node(item["node_id"])
        found["entered"] += item["n"]
        if item["port"]:
            found["ports"][item["port"]] = item["n"]
        if item["port"] == "error":
            found["errors"] += item["n"]
    for item in times:
        found = node(item["node_id"])
        found["seconds_p50"] = round(float(item["p50"]), 3)
        found["seconds_p95"] = round(float(item["p95"]), 3)
    for item in here:
        found = node(item["node_id"])
        found["here"] = item["n"]
        found["entered"] += item["n"]
    return {
        "version": version,
        "entered": totals["entered"],
        "in_progress": totals["in_progress"],
        "completed": totals["completed"],
        "failed": totals["failed"],
        "converted": totals["converted"],
        "exited": decode_json(totals["exited"]),
        "nodes": nodes,
    }


async def profile_journeys(
    engine: AsyncEngine, *, workspace: str, profile_id: str, limit: int = 50
) -> list[InstanceView]:
    """The profile's journeys, newest first, each with its steps (404 ``profile_not_found``
    for a profile the workspace does not have). Nodes are named by id, with their label and
    type in the instance's version (null for a node that version does not have)."""
    async with connected(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        if await lookups.survivor(tx, space, profile_id) is None:
            raise NotFound("profile_not_found", f"no profile {profile_id!r}")
        rows = await instances.of_profiles(tx, space, [profile_id], limit)
    found: list[InstanceView] = []
    for row in rows:
        steps = decode_json(row["steps"])
        nodes: dict[str, dict[str, str | None]] = decode_json(row["nodes"])
        found.append(
            {
                "id": row["id"],
                "journey": row["key"],
                "version": row["version"],
                "state": row["state"],
                "node": row["node_id"],
                "node_label": nodes.get(row["node_id"], {}).get("label"),
                "entered_at": format_timestamp(row["entered_at"]),
                "waiting_until": _time(row["wake_at"]) if row["state"] == "waiting" else None,
                "ended_at": _time(row["ended_at"]),
                "end_reason": row["end_reason"],
                "error": row["error"],
                "converted_at": _time(row["converted_at"]),
                "steps": [
                    {
                        "step": step["step"],
                        "node": step["node"],
                        "label": nodes.get(step["node"], {}).get("label"),
                        "type": nodes.get(step["node"], {}).get("type"),
                        "port": step["port"],
                        "arrived_at": _stamp(step["arrived_at"]),
                        "left_at": _stamp(step["left_at"]),
                        "detail": step["detail"],
                    }
                    for step in steps
                ],
            }
        )
    return found


def _time(value: object) -> str | None:
    return format_timestamp(value) if isinstance(value, datetime) else None


def _stamp(text: str) -> str:
    """A time as PostgreSQL's JSON writes it, in the one form of every answer."""
    return format_timestamp(datetime.fromisoformat(text))
