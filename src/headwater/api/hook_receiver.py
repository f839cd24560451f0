"""The URL of each webhook source, ``POST /v1/hooks/{key}`` (and ``GET`` for verification
echoes): the sender's authentication checked, the request mapped to Segment messages by the
source's rules, and those messages stored by the tracking API's own path (the collector:
normalisation, plans, PII rules, suppressions, dedup, group commit). The sender is answered
2xx only after the commit.

Every request is recorded in the source's debugger history, whatever became of it: refused
(401, its body not kept), answered as a verification, made no message, failed (the mapping or
transformation could not make a message: a rejection with its reason, answered 200 so the
sender does not retry a request that would fail the same way), or stored.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from headwater import hooks
from headwater.api.auth import runtime as runtime_of
from headwater.api.client_ip import client_ip
from headwater.errors import BadRequest, MethodNotAllowed, NotFound, Unauthorized
from headwater.runtime import Runtime

__all__ = ["receivers", "router"]

router = APIRouter(tags=["webhooks"])


def receivers(request: Request) -> hooks.Receivers:
    """The application's cache of webhook sources by URL key (made on first use)."""
    state = request.app.state
    found: hooks.Receivers | None = getattr(state, "hook_receivers", None)
    if found is None:
        runtime: Runtime = runtime_of(request)
        engine, secret_key = runtime.database.engine, runtime.settings.secret_key
        found = hooks.Receivers(
            lambda key: hooks.receiver(engine, key, secret_key),
            ttl=runtime.settings.write_key_cache_seconds,
        )
        state.hook_receivers = found
    return found


def _url(request: Request, public_url: str | None) -> str:
    """The URL as the sender addressed it: on ``HEADWATER_PUBLIC_URL`` when set."""
    if public_url is None:
        return str(request.url)
    query = request.url.query
    return public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BadRequest("request_too_large", f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest("request_too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _signature_header(config: hooks.HookConfig) -> str | None:
    auth = config.auth
    return getattr(auth, "header", None)


def _entry(
    incoming: hooks.HookRequest,
    config: hooks.HookConfig,
    *,
    status: int,
    outcome: str,
    keep_body: bool,
    reason: str | None = None,
    messages: list[dict[str, Any]] | None = None,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "method": incoming.method,
        "headers": hooks.redacted_headers(
            incoming.headers, signature_header=_signature_header(config)
        ),
        "query": hooks.redacted_query(incoming.query),
        "body": hooks.kept_body(incoming.body) if keep_body else None,
        "body_bytes": len(incoming.body),
        "status": status,
        "outcome": outcome,
        "reason": reason,
        "messages": messages or [],
        "errors": errors or [],
    }


@router.api_route("/v1/hooks/{key}", methods=["GET", "POST"], include_in_schema=False)
async def receive(key: str, request: Request) -> Response:
    runtime: Runtime = runtime_of(request)
    settings = runtime.settings
    engine = runtime.database.engine
    found = await receivers(request).of(key)
    if found is None:
        raise NotFound("unknown_hook", "no webhook source has this URL")
    source, config = found.source, found.config
    incoming = hooks.HookRequest(
        method=request.method,
        url=_url(request, settings.public_url),
        body=b"",
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
    )

    async def record(**fields: Any) -> None:
        await hooks.record(engine, source, _entry(incoming, config, **fields))

    try:
        incoming = replace(incoming, body=await _body(request, settings.max_request_bytes))
    except BadRequest as refused:
        await record(status=400, outcome="refused", keep_body=False, reason=refused.message)
        raise

    answer = hooks.challenge(config, incoming)
    if answer is not None:
        await record(status=answer.status, outcome="replied", keep_body=True)
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
    try:
        if request.method != "POST":
            raise MethodNotAllowed("method_not_allowed", "a webhook is sent with POST")
        hooks.verify(config.auth, incoming, now=time.time())
    except hooks.AuthFailure as failure:
        await record(status=401, outcome="refused", keep_body=False, reason=str(failure))
        raise Unauthorized("invalid_signature", str(failure)) from None
    except MethodNotAllowed as refused:
        await record(status=405, outcome="refused", keep_body=False, reason=refused.message)
        raise
    mapped = hooks.map_request(config, incoming)
    if not mapped.messages and not mapped.errors:
        reason = "no rule held" if not mapped.matched else "the rules that held made no message"
        await record(status=200, outcome="none", keep_body=True, reason=reason)
        return JSONResponse({"success": True, "messages": 0})
    ip = client_ip(request.scope, settings.trusted_proxies)
    try:
        result = await runtime.collector.ingest(
            source, mapped.messages, failures=mapped.errors, client_ip=ip
        )
    except BadRequest as refused:
        await record(
            status=400,
            outcome="failed",
            keep_body=True,
            reason=refused.message,
            messages=mapped.messages,
            errors=[*mapped.errors, *_reasons(refused)],
        )
        raise
    await record(
        status=200,
        outcome="stored" if mapped.messages else "failed",
        keep_body=True,
        reason=None if mapped.messages else "no message could be made",
        messages=mapped.messages,
        errors=mapped.errors,
    )
    return JSONResponse(
        {
            "success": True,
            "messages": len(mapped.messages),
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
        }
    )


def _reasons(error: BadRequest) -> list[str]:
    found = error.details.get("errors")
    if not isinstance(found, list):
        return []
    return [str(item.get("reason")) for item in found if isinstance(item, dict)]
