"""Mixpanel: events through the Import API, user profiles through the Engage API.

Mapping (after Segment's Mixpanel destination):

- ``track`` → an event named ``event``; ``page``/``screen`` → "Viewed {name} Page" /
  "Viewed {name} Screen" ("Loaded a Page"/"Loaded a Screen" when unnamed). The properties are
  the call's, plus ``time`` (ms), ``distinct_id`` (userId, else anonymousId), ``$user_id``,
  ``$device_id`` (anonymousId: Mixpanel's Simplified ID Merge joins the two), ``$insert_id``,
  ``$ip``, ``$current_url``, ``$referrer``, ``$os``, ``$app_version_string``,
  ``$manufacturer`` and ``$model`` from ``context``.
- ``identify`` → a profile ``$set`` of its traits, with Segment's reserved traits renamed
  (``email`` → ``$email``, ``firstName`` → ``$first_name``, ``createdAt`` → ``$created``...).
- ``group`` and ``alias`` are refused (per event, with the reason): group profiles need Group
  Analytics keys this connector does not configure, and Simplified ID Merge links identities
  through ``$user_id``/``$device_id`` on events instead of alias calls.

Requests: ``POST {endpoint}/import?strict=1`` with a JSON array of up to 2000 events, Basic
auth with the service account (and ``project_id``) when configured, else the project token as
user name; ``POST {endpoint}/engage?verbose=1`` with a JSON array of profile updates carrying
``$token``. A batch may need both requests; see ``_common.combine`` for how they merge.

Idempotency: ``$insert_id`` is the messageId (or a UUID derived from it when it is longer than
Mixpanel's 36 characters or not alphanumeric-and-dashes); Mixpanel drops repeats, so retries
are safe. Profile ``$set`` is idempotent by nature.

Deletion (``deletes``): the profile deletion of the Engage API, which the project token
allows: ``POST {endpoint}/engage?verbose=1`` with one ``{"$token", "$distinct_id",
"$delete": null, "$ignore_alias": false}`` per distinct id of the person (every user id and
anonymous id, as events carry them), at most 2000 a request. It deletes profiles and their
properties, not the events already imported: Mixpanel deletes events only through its GDPR API
(``/api/app/data-deletions/v3.0``), which needs a GDPR OAuth token this connector does not
hold. Deleting a profile that does not exist is accepted, so a repeat is harmless. A person
with neither user id nor anonymous id (only an email) cannot be deleted here.

Errors: an ``/import`` 400 with ``failed_records`` is a partial success: the listed events fail
(reason: Mixpanel's message), the rest are delivered. ``/engage`` answers 200 even when it
refuses an update; with ``verbose=1`` its ``{"status": 0, "error": ...}`` marks the updates
failed. 401, 403, 413 are permanent; 429 and 5xx are retried. Default consent category:
Analytics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from headwater.connectors._common import (
    Part,
    all_of,
    basic_auth,
    call,
    chunked,
    combine,
    distinct_id,
    epoch_ms,
    event_name,
    mapping,
    partial,
    stable_uuid,
)
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    Outcome,
    SendResult,
    not_supported,
)
from headwater.spec import properties_of, traits_of

__all__ = ["Mixpanel", "MixpanelConfig"]

_PER_ENGAGE = 2000
_INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
_RESERVED_TRAITS = {
    "email": "$email",
    "firstName": "$first_name",
    "lastName": "$last_name",
    "name": "$name",
    "phone": "$phone",
    "createdAt": "$created",
    "username": "$username",
    "avatar": "$avatar",
}
_REFUSED = {
    "group": "Mixpanel group calls are not supported (Group Analytics keys are not configured)",
    "alias": "Mixpanel links identities through $user_id/$device_id; alias calls are not sent",
}


class MixpanelConfig(pydantic.BaseModel):
    project_token: pydantic.SecretStr
    service_account_username: str | None = pydantic.Field(
        default=None, description="an Owner or Admin service account; else the token is used"
    )
    service_account_secret: pydantic.SecretStr | None = None
    project_id: str | None = pydantic.Field(
        default=None, description="required with a service account"
    )
    endpoint: str = pydantic.Field(
        default="https://api.mixpanel.com",
        description="https://api-eu.mixpanel.com or https://api-in.mixpanel.com for EU or India",
    )
    profiles: bool = pydantic.Field(default=True, description="send identify traits to profiles")

    @pydantic.model_validator(mode="after")
    def _whole_service_account(self) -> MixpanelConfig:
        parts = (self.service_account_username, self.service_account_secret, self.project_id)
        if any(parts) and not all(parts):
            raise ValueError("a service account needs its username, secret and project_id")
        return self


class Mixpanel(Connector[MixpanelConfig]):
    kind = "mixpanel"
    title = "Mixpanel"
    config_type = MixpanelConfig
    max_batch = 2000
    categories = ("Analytics",)
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        distinct_ids = list(dict.fromkeys((*subject.user_ids, *subject.anonymous_ids)))
        if not distinct_ids:
            return not_supported("Mixpanel deletes profiles by distinct id; this person has none")
        token = self.config.project_token.get_secret_value()
        results = []
        for ids in chunked(distinct_ids, _PER_ENGAGE):
            updates = [
                {"$token": token, "$distinct_id": i, "$delete": None, "$ignore_alias": False}
                for i in ids
            ]
            results.append(await self._post_engage(updates))
        return all_of(results)

    async def send(self, events: Sequence[Event]) -> SendResult:
        imports: list[int] = []
        profiles: list[int] = []
        refused: dict[int, str] = {}
        for index, event in enumerate(events):
            kind = event.type
            if kind in ("track", "page", "screen") and event_name(event):
                imports.append(index)
            elif kind == "identify" and self.config.profiles:
                profiles.append(index)
            elif kind == "identify":
                refused[index] = "profile updates are turned off in this Mixpanel destination"
            else:
                refused[index] = _REFUSED.get(kind, f"Mixpanel cannot take this {kind} call")
        parts = []
        if imports:
            parts.append(Part(imports, await self._import([events[i] for i in imports])))
        if profiles:
            parts.append(Part(profiles, await self._engage([events[i] for i in profiles])))
        return combine(parts, refused)

    async def _import(self, events: Sequence[Event]) -> SendResult:
        config = self.config
        token = config.project_token.get_secret_value()
        params = {"strict": "1"}
        if config.service_account_username and config.service_account_secret and config.project_id:
            secret = config.service_account_secret.get_secret_value()
            authorization = basic_auth(config.service_account_username, secret)
            params["project_id"] = config.project_id
        else:
            authorization = basic_auth(token)
        sent = await call(
            self.client,
            "POST",
            f"{config.endpoint.rstrip('/')}/import",
            json=[_import_event(event) for event in events],
            params=params,
            headers={"Authorization": authorization},
        )
        records = mapping(sent.body).get("failed_records")
        if sent.status != 400 or not isinstance(records, list) or not records:
            return sent.result
        failed = {
            int(record["index"]): str(record.get("message") or "refused by Mixpanel")
            for record in map(mapping, records)
            if isinstance(record.get("index"), int) and 0 <= record["index"] < len(events)
        }
        return partial(sent.result, failed, len(events))

    async def _engage(self, events: Sequence[Event]) -> SendResult:
        token = self.config.project_token.get_secret_value()
        return await self._post_engage([_profile_update(event, token) for event in events])

    async def _post_engage(self, updates: Sequence[Mapping[str, Any]]) -> SendResult:
        """One ``/engage`` request; ``{"status": 0}`` (verbose) fails every update in it."""
        sent = await call(
            self.client,
            "POST",
            f"{self.config.endpoint.rstrip('/')}/engage",
            json=list(updates),
            params={"verbose": "1"},
        )
        body = mapping(sent.body)
        if sent.result.outcome is Outcome.DELIVERED and body.get("status") == 0:
            reason = f"Mixpanel refused the profile update: {body.get('error')}"
            return partial(sent.result, dict.fromkeys(range(len(updates)), reason), len(updates))
        return sent.result


def _import_event(event: Event) -> dict[str, Any]:
    ctx = event.context
    page, os, app, device = ctx.page, ctx.os, ctx.app, ctx.device
    message_id = event.message_id
    optional = {
        "$user_id": event.user_id or None,
        "$device_id": event.anonymous_id or None,
        "$ip": ctx.ip,
        "$current_url": page.url if page else None,
        "$referrer": page.referrer if page else None,
        "$os": os.name if os else None,
        "$app_version_string": app.version if app else None,
        "$manufacturer": device.manufacturer if device else None,
        "$model": device.model if device else None,
    }
    return {
        "event": event_name(event),
        "properties": {
            **properties_of(event),
            **{key: value for key, value in optional.items() if value is not None},
            "time": epoch_ms(event),
            "distinct_id": distinct_id(event) or "",
            "$insert_id": message_id if _INSERT_ID.match(message_id) else stable_uuid(message_id),
        },
    }


def _profile_update(event: Event, token: str) -> dict[str, Any]:
    update: dict[str, Any] = {
        "$token": token,
        "$distinct_id": distinct_id(event) or "",
        "$set": _renamed(traits_of(event)),
    }
    ip = event.context.ip
    if ip:
        update["$ip"] = ip
    return update


def _renamed(found: Mapping[str, Any]) -> dict[str, Any]:
    return {_RESERVED_TRAITS.get(key, key): value for key, value in found.items()}
