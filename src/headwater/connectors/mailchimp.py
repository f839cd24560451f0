"""Mailchimp: audience members (add or update, merge fields, tags) from identify calls.

Mapping (after Segment's Mailchimp destination):

- ``identify`` with an email → ``PUT /3.0/lists/{list_id}/members/{subscriber_hash}`` (the
  hash is the MD5 of the lower-cased email) with ``email_address``, ``status_if_new`` and
  ``merge_fields`` from the traits named in ``merge_fields`` (trait → merge tag; by default
  ``firstName`` → ``FNAME``, ``lastName`` → ``LNAME``; Mailchimp refuses merge tags the
  audience does not have). When the traits carry tags (a list of strings under ``tags_trait``)
  or the config lists ``tags``, a second request
  ``POST /3.0/lists/{list_id}/members/{subscriber_hash}/tags`` marks them active.
- Everything else is refused, with the reason: Mailchimp keeps audience members, so it accepts
  only identify calls with an email.

Auth: HTTP Basic with any user name and the API key as password. The key ends with its data
centre (``...-us6``), which picks ``https://us6.api.mailchimp.com``; ``endpoint`` overrides it.
One member per request: no batching (Mailchimp's batch operations are asynchronous).

Idempotency: both requests set state (add-or-update, tag active), so repeating them is safe.

Deletion (``deletes``): ``POST /3.0/lists/{list_id}/members/{subscriber_hash}/actions/
delete-permanent`` (no body; Mailchimp answers 204) for each email of the person: Mailchimp
erases the member and their history from the audience, and the address cannot be re-imported
(only re-subscribed by the person). A 404 means the audience holds no such member (never
added, or already erased): delivered, so a repeated deletion is harmless; a wrong ``list_id``
also answers 404 there, but fails every delivery, which shows it. Members are found by email
only: a person without an email cannot be deleted here.

Errors (``application/problem+json`` with ``title`` and ``detail``): 400 (for example "Invalid
Resource", "Member In Compliance State", "Forgotten Email Not Subscribed"), 401, 403, 404
are permanent; 429 (more than 10 simultaneous connections) and 5xx are retried. Default
consent categories: Marketing and Advertising.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pydantic

from headwater.connectors._common import (
    all_of,
    basic_auth,
    call,
    email,
    md5_hex,
    scalar,
)
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    Outcome,
    SendResult,
    not_supported,
)
from headwater.spec import Identify, traits_of

__all__ = ["Mailchimp", "MailchimpConfig"]


class MailchimpConfig(pydantic.BaseModel):
    api_key: pydantic.SecretStr = pydantic.Field(description="ends with the data centre: -us6")
    list_id: str = pydantic.Field(description="the audience id")
    status_if_new: Literal["subscribed", "pending", "unsubscribed", "transactional"] = (
        pydantic.Field(default="subscribed", description="pending sends a double opt-in email")
    )
    merge_fields: dict[str, str] = pydantic.Field(
        default_factory=lambda: {"firstName": "FNAME", "lastName": "LNAME"},
        description="trait -> merge tag",
    )
    tags_trait: str = "tags"
    tags: list[str] = pydantic.Field(default_factory=list, description="added to every member")
    endpoint: str | None = pydantic.Field(default=None, description="overrides the data centre")

    @pydantic.model_validator(mode="after")
    def _has_data_centre(self) -> MailchimpConfig:
        if self.endpoint is None and "-" not in self.api_key.get_secret_value():
            raise ValueError("the API key has no data centre suffix (-us6); set endpoint")
        return self

    def base_url(self) -> str:
        """``https://{dc}.api.mailchimp.com/3.0``, or ``endpoint`` + ``/3.0``."""
        if self.endpoint:
            return self.endpoint.rstrip("/") + "/3.0"
        data_centre = self.api_key.get_secret_value().rsplit("-", 1)[1]
        return f"https://{data_centre}.api.mailchimp.com/3.0"


class Mailchimp(Connector[MailchimpConfig]):
    kind = "mailchimp"
    title = "Mailchimp"
    config_type = MailchimpConfig
    categories = ("Marketing", "Advertising")
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        if not subject.emails:
            return not_supported("Mailchimp finds members by email; this person has none")
        config = self.config
        results = []
        for address in dict.fromkeys(e.lower() for e in subject.emails):
            url = (
                f"{config.base_url()}/lists/{config.list_id}/members/{md5_hex(address)}"
                "/actions/delete-permanent"
            )
            result = await self._call("POST", url, None)
            absent = result.exchange is not None and result.exchange.status == 404
            if absent:  # no such member: nothing held in this audience
                result = SendResult(outcome=Outcome.DELIVERED, exchange=result.exchange)
            results.append(result)
        return all_of(results)

    async def send(self, events: Sequence[Event]) -> SendResult:
        (event,) = events
        address = email(event)
        if not isinstance(event, Identify) or not address:
            reason = "Mailchimp accepts only identify calls with an email"
            return SendResult(outcome=Outcome.FAILED, error=reason)
        config = self.config
        member_url = (
            f"{config.base_url()}/lists/{config.list_id}/members/{md5_hex(address.lower())}"
        )
        found = traits_of(event)
        member: dict[str, Any] = {"email_address": address, "status_if_new": config.status_if_new}
        merge = {tag: found[t] for t, tag in config.merge_fields.items() if scalar(found.get(t))}
        if merge:
            member["merge_fields"] = merge
        result = await self._call("PUT", member_url, member)
        tags = _tags(found.get(config.tags_trait)) + config.tags
        if result.outcome is not Outcome.DELIVERED or not tags:
            return result
        active = [{"name": name, "status": "active"} for name in dict.fromkeys(tags)]
        return await self._call("POST", f"{member_url}/tags", {"tags": active})

    async def _call(self, method: str, url: str, body: dict[str, Any] | None) -> SendResult:
        key = self.config.api_key.get_secret_value()
        headers = {"Authorization": basic_auth("headwater", key)}
        return (await call(self.client, method, url, json=body, headers=headers)).result


def _tags(value: Any) -> list[str]:
    return [tag for tag in value if isinstance(tag, str) and tag] if isinstance(value, list) else []
