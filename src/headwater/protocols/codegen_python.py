"""Typed Python tracking calls from a plan, in the manner of Segment's Typewriter (pure).

The module holds a ``Typewriter`` class wrapping any Segment-compatible Python client (the
official ``segment-analytics-python`` ``Client``, or RudderStack's): one keyword-only method per
planned event, whose parameters are the planned properties with their types (``str``,
``int``, ``float``, ``bool``, ``Literal`` for enums, ``list[...]``, ``TypedDict`` for nested
objects); required properties have no default, optional ones default to ``None`` and are left
out when ``None``. ``identify`` and ``group`` take the planned traits the same way.
"""

from __future__ import annotations

from typing import Any

from headwater.protocols.naming import Names, pascal, snake
from headwater.protocols.plan import EventSpec, PlanDocument

__all__ = ["python_module"]

_OPTIONS = (
    ("context", "dict[str, Any] | None"),
    ("timestamp", "datetime | None"),
    ("message_id", "str | None"),
    ("integrations", "dict[str, Any] | None"),
)
_RESERVED = {"self", "user_id", "anonymous_id", "group_id", "category", *(n for n, _ in _OPTIONS)}
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


class _Module:
    def __init__(self) -> None:
        self.definitions: list[str] = []
        self.types = Names({"SegmentClient", "Typewriter", "Any", "Literal"})

    def type_of(self, schema: Any, hint: str) -> str:
        """A type expression for ``schema``; nested objects become TypedDicts named ``hint``."""
        if not isinstance(schema, dict):
            return "Any"
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            literal = [v for v in enum if isinstance(v, str | int) and v is not None]
            if len(literal) == len([v for v in enum if v is not None]):
                union = f"Literal[{', '.join(repr(v) for v in literal)}]" if literal else ""
                return " | ".join(p for p in (union, "None" if None in enum else "") if p)
        declared = schema.get("type")
        kinds = [declared] if isinstance(declared, str) else list(declared or [])
        if not kinds:
            return "Any"
        parts = [self._one(kind, schema, hint) for kind in kinds]
        return " | ".join(dict.fromkeys(parts))

    def _one(self, kind: str, schema: dict[str, Any], hint: str) -> str:
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            return f"list[{self.type_of(schema.get('items'), f'{hint}Item')}]"
        if kind == "object" and isinstance(schema.get("properties"), dict):
            return self.typed_dict(schema, hint)
        return "dict[str, Any]"

    def typed_dict(self, schema: dict[str, Any], hint: str) -> str:
        name = self.types.claim(pascal(hint))
        required = set(schema.get("required") or ())
        fields = []
        for key, sub in schema["properties"].items():
            kind = self.type_of(sub, f"{name}_{key}")
            fields.append(f"{key!r}: {kind if key in required else f'NotRequired[{kind}]'}")
        self.definitions.append(f"{name} = TypedDict({name!r}, {{{', '.join(fields)}}})")
        return name


def _optional(kind: str) -> str:
    return kind if kind == "Any" or "None" in kind.split(" | ") else f"{kind} | None"


def _method(module: _Module, name: str, spec: EventSpec | None, call: str, kind: str) -> str:
    """One method: identity, the planned properties (or traits), the options."""
    schema = spec.schema if spec is not None else {}
    container = "traits" if call in ("identify", "group") else "properties"
    names = Names(_RESERVED)
    required = set(schema.get("required") or ())
    params = ["self", "*"]
    if call == "group":
        params.append("group_id: str")
    params += ["user_id: str | None = None", "anonymous_id: str | None = None"]
    mandatory: list[tuple[str, str]] = []
    optional: list[tuple[str, str]] = []
    for key, sub in (schema.get("properties") or {}).items():
        param = names.claim(snake(key))
        hint = f"{name}_{key}"
        if key in required:
            params.append(f"{param}: {module.type_of(sub, hint)}")
            mandatory.append((key, param))
        else:
            params.append(f"{param}: {_optional(module.type_of(sub, hint))} = None")
            optional.append((key, param))
    if call in ("page", "screen"):
        params.append("category: str | None = None")
    params += [f"{option}: {annotation} = None" for option, annotation in _OPTIONS]
    what = spec.description if spec is not None and spec.description else f"A {kind} call."
    signature = "".join(f"        {param},\n" for param in params)
    body = [
        f"    def {name}(\n{signature}    ) -> None:",
        f"        {what!r}",
        f"        {container}: dict[str, Any] = {{"
        + ", ".join(f"{key!r}: {param}" for key, param in mandatory)
        + "}",
    ]
    for key, param in optional:
        body += [f"        if {param} is not None:", f"            {container}[{key!r}] = {param}"]
    args = ["user_id=user_id", "anonymous_id=anonymous_id"]
    if call == "track" and spec is not None:
        args.append(f"event={spec.name!r}")
    if call in ("page", "screen") and spec is not None:
        args += ["category=category", f"name={spec.name!r}"]
    if call == "group":
        args.append("group_id=group_id")
    args.append(f"{container}={container}")
    args += [f"{option}={option}" for option, _ in _OPTIONS]
    body.append(f"        self.client.{call}({', '.join(args)})")
    return "\n".join(body)


def python_module(plan: PlanDocument, *, version: int | None = None) -> str:
    """The source of a Python module with typed calls for every event of ``plan``."""
    module = _Module()
    methods = Names({"identify", "group", "client"})
    bodies = []
    for spec in plan.events:
        base = snake(spec.name) if spec.type == "track" else f"{spec.type}_{snake(spec.name)}"
        bodies.append(_method(module, methods.claim(base), spec, spec.type, spec.type))
    for call, schema in (("identify", plan.identify_traits), ("group", plan.group_traits)):
        article = "An" if call == "identify" else "A"
        traits = EventSpec(name=call, schema=schema or {}, description=f"{article} {call} call.")
        bodies.append(_method(module, call, traits, call, call))
    label = f"{plan.name!r}" + (f" (version {version})" if version is not None else "")
    header = [
        f'"""Typed tracking calls for the tracking plan {label}.',
        "",
        "Generated by ``headwater plans codegen``: do not edit, regenerate when the plan changes.",
        "",
        "    from segment.analytics import Client",
        "    typewriter = Typewriter(Client(WRITE_KEY, host=HEADWATER_URL))",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from datetime import datetime",
        "from typing import Any, Literal, NotRequired, Protocol, TypedDict",
        "",
        '__all__ = ["SegmentClient", "Typewriter"]',
        "",
        "",
        "class SegmentClient(Protocol):",
        '    """What a Segment-compatible Python client offers."""',
        "",
    ]
    for call in ("track", "identify", "group", "page", "screen"):
        header.append(f"    def {call}(self, *args: Any, **kwargs: Any) -> Any: ...")
    parts = ["\n".join(header), *module.definitions]
    typewriter = [
        "class Typewriter:",
        '    """One method per planned call; each sends through ``client``."""',
        "",
        "    def __init__(self, client: SegmentClient) -> None:",
        "        self.client = client",
    ]
    parts.append("\n".join(typewriter) + "\n\n" + "\n\n".join(bodies))
    return "\n\n\n".join(parts) + "\n"
