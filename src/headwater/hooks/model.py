"""A webhook source's configuration as typed values (pure): how the sender authenticates, the
rules that map a request to Segment messages, the optional transformation, and the reply.

Validated once at the edge (the management API) with pydantic; the stored JSON is read back
through :func:`parse_config`, so the rest of the package handles typed values only.

>>> config = parse_config({"auth": {"type": "none"}, "rules": [{"type": "track",
...     "set": {"event": {"const": "Ping"}, "anonymousId": "body.id"}}]})
>>> config.rules[0].type
'track'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from headwater.errors import BadRequest

__all__ = [
    "AuthConfig",
    "BasicAuth",
    "BearerAuth",
    "Condition",
    "EcdsaAuth",
    "HmacAuth",
    "HookConfig",
    "MessageType",
    "NoAuth",
    "Reply",
    "Rule",
    "TimestampFormat",
    "TimestampSpec",
    "ValueSpec",
    "parse_config",
    "plain_errors",
]

MessageType = Literal["track", "identify", "group", "page", "screen", "alias"]
TimestampFormat = Literal["iso8601", "unix_seconds", "unix_ms"]
_Strict = ConfigDict(extra="forbid")


class ValueSpec(BaseModel):
    """Where a field's value comes from: exactly one of ``path`` (``body.data.id``),
    ``template`` (``"{body.first} {body.last}"``), ``const`` (a literal) or ``expr`` (an
    expression of the transformation language). A bare string in a rule stands for a path."""

    model_config = _Strict
    path: str | None = None
    template: str | None = None
    const: Any = None
    expr: str | None = None
    default: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        given = [
            name for name in ("path", "template", "expr") if getattr(self, name) is not None
        ] + (["const"] if "const" in self.model_fields_set else [])
        if len(given) != 1:
            raise ValueError("a value needs exactly one of path, template, const or expr")
        return self


Value = str | ValueSpec


Operator = Literal["eq", "ne", "in", "exists", "missing", "starts_with", "contains", "gt", "lt"]


class Condition(BaseModel):
    """``path`` compared with ``value`` by ``op`` (``eq`` when not given), or a combination:
    ``all``, ``any``, ``not`` (an ``op`` given there is dropped)."""

    model_config = _Strict
    path: str | None = None
    op: Operator | None = None
    value: Any = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.path is not None, self.all is not None, self.any is not None]
        forms.append(self.not_ is not None)
        if sum(forms) != 1:
            raise ValueError("a condition needs exactly one of path, all, any or not")
        if self.path is None:  # a combination: an op stored by earlier versions means nothing
            self.op = None
        return self


class TimestampSpec(BaseModel):
    model_config = _Strict
    path: str
    format: TimestampFormat = "iso8601"


class Rule(BaseModel):
    """When ``when`` holds (always, without it), emit one message of ``type`` (or one per
    element of the array at ``each``, bound as ``item``), its fields from ``set`` (keys are
    paths in the message: ``userId``, ``properties.amount``)."""

    model_config = _Strict
    name: str | None = None
    when: Condition | None = None
    each: str | None = None
    type: MessageType
    set: dict[str, Value] = Field(default_factory=dict)
    message_id: Value | Literal["hash"] = "hash"
    timestamp: TimestampSpec | None = None


class NoAuth(BaseModel):
    model_config = _Strict
    type: Literal["none"]


class BearerAuth(BaseModel):
    model_config = _Strict
    type: Literal["bearer"]
    token: str | None = None
    header: str = "authorization"


class BasicAuth(BaseModel):
    model_config = _Strict
    type: Literal["basic"]
    username: str
    password: str | None = None


class HmacAuth(BaseModel):
    """A keyed hash of ``signed`` (a template of ``{body}``, ``{timestamp}``, ``{method}``,
    ``{url}``, ``{form_sorted}``) in ``header``. With ``signature_key`` the header is a list
    ``k=v,k=v`` (Stripe's ``t=…,v1=…``) and the signature is each value under that key; the
    timestamp is the value under ``timestamp_key`` there, else the header ``timestamp_header``.
    With ``body_hash_param``, a body that is not a form (whose parameters ``{form_sorted}``
    signs) must be named by that query parameter, its hex SHA-256, the URL then being signed
    with it: Twilio's ``bodySHA256`` on JSON bodies."""

    model_config = _Strict
    type: Literal["hmac"]
    secret: str | None = None
    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    header: str
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    signed: str = "{body}"
    signature_key: str | None = None
    timestamp_key: str | None = None
    timestamp_header: str | None = None
    timestamp_format: Literal["unix_seconds", "unix_ms"] = "unix_seconds"
    tolerance_seconds: int = Field(default=300, ge=1, le=86_400)
    body_hash_param: str | None = None


class EcdsaAuth(BaseModel):
    """An ECDSA (P-256, SHA-256) signature, base64 DER in ``header``, over ``signed``, checked
    with ``public_key`` (base64 DER SubjectPublicKeyInfo, or PEM): SendGrid's scheme."""

    model_config = _Strict
    type: Literal["ecdsa"]
    public_key: str | None = None
    header: str
    timestamp_header: str | None = None
    signed: str = "{timestamp}{body}"
    tolerance_seconds: int = Field(default=300, ge=1, le=86_400)


AuthConfig = Annotated[
    NoAuth | BearerAuth | BasicAuth | HmacAuth | EcdsaAuth, Field(discriminator="type")
]


class Reply(BaseModel):
    """Answer a verification request with a value of it instead of mapping it: when ``when``
    holds (for example ``query.challenge`` exists), answer ``status`` with the value at ``echo``
    (as plain text, or as JSON ``{json_key: value}``)."""

    model_config = _Strict
    when: Condition
    echo: str
    json_key: str | None = None
    status: int = Field(default=200, ge=200, le=299)
    methods: list[Literal["GET", "POST"]] = Field(default=["GET", "POST"])


class HookConfig(BaseModel):
    model_config = _Strict
    auth: AuthConfig
    rules: list[Rule] = Field(default_factory=list, max_length=100)
    match: Literal["all", "first"] = "all"
    transform: str | None = Field(default=None, max_length=10_000)
    reply: Reply | None = None


def plain_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"field": "rules.0.type", "message": ...}``, for people."""
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "(config)", "message": e["msg"]}
        for e in error.errors(include_url=False)
    ]


def parse_config(raw: dict[str, Any]) -> HookConfig:
    """``raw`` as a :class:`HookConfig`, or 400 ``invalid_hook_config`` naming each field."""
    try:
        return HookConfig.model_validate(raw)
    except ValidationError as error:
        errors = plain_errors(error)
        raise BadRequest(
            "invalid_hook_config",
            f"the webhook configuration is invalid: {errors[0]['field']}: {errors[0]['message']}",
            errors=errors,
        ) from None
