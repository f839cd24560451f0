"""Plans as files: JSON, YAML, and CSV rows as Segment's tracking-plan import takes them (pure).

>>> load("name: Web\\nevents: []\\n", "yaml")
{'name': 'Web', 'events': []}

CSV: one header row, then one row per event and one per property or trait. Columns (matched
without regard to case; others are ignored):

============================  ===========================================================
``Event Type``                ``Track`` (default), ``Page``, ``Screen``, ``Identify``, ``Group``
``Event Name``                the event's name (empty for identify and group traits)
``Property Name``             empty on the event's own row; nested as ``a.b``, array items
                              of objects as ``a[].b``
``Description``               of the event or of the property
``Property Status``           ``Required`` or ``Optional`` (default)
``Property Data Type``        ``string``, ``integer``, ``number``, ``boolean``, ``object``,
                              ``array``, ``null``, ``any``, ``Date time``; several separated
                              by ``,`` or ``|``
``Allowed Property Values``   a regular expression; ``fall|winter`` means exactly one of them
                              (anchored unless it starts with ``^`` or ends with ``$``)
``Enum Values``               permitted values separated by ``|`` or ``,``
``Labels``                    ``key:value`` pairs separated by ``,`` (event rows)
============================  ===========================================================
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Literal

import yaml

from headwater.protocols.plan import PlanDocument, PlanError, flatten, plan_to_dict

__all__ = ["COLUMNS", "Format", "dump", "from_csv", "load", "to_csv"]

Format = Literal["json", "yaml", "csv"]
COLUMNS = (
    "Event Type",
    "Event Name",
    "Property Name",
    "Description",
    "Property Status",
    "Property Data Type",
    "Allowed Property Values",
    "Enum Values",
    "Labels",
)
_TYPE_NAMES = {
    "string": "string",
    "text": "string",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "object": "object",
    "array": "array",
    "null": "null",
}
_DATETIME = ("date time", "datetime", "date-time")
_ANCHORED = re.compile(r"^\^\(\?:(.*)\)\$$", re.DOTALL)


def load(text: str, format: Literal["json", "yaml"]) -> Any:
    """Decode a JSON or YAML document; raises :class:`PlanError` when it cannot be read."""
    try:
        document = json.loads(text) if format == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise PlanError(f"the {format.upper()} cannot be read: {error}") from None
    # The API refuses a raw NUL before this, but YAML spells it "\0" or "\x00" too, and
    # PostgreSQL cannot store it.
    if _holds_nul(document):
        raise PlanError(f"the {format.upper()} holds a NUL character (U+0000)")
    return document


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def dump(plan: PlanDocument, format: Format) -> str:
    """The plan as a JSON, YAML or CSV document."""
    if format == "csv":
        return to_csv(plan)
    document = plan_to_dict(plan)
    if format == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _types(raw: str, row: int) -> tuple[list[str], str | None]:
    types: list[str] = []
    format = None
    for part in re.split(r"[,|]", raw):
        name = part.strip().lower()
        if not name or name == "any":
            continue
        if name in _DATETIME:
            types.append("string")
            format = "date-time"
        elif name in _TYPE_NAMES:
            types.append(_TYPE_NAMES[name])
        else:
            raise PlanError(f"CSV row {row}: unknown data type {part.strip()!r}")
    return list(dict.fromkeys(types)), format


def _enum(raw: str, types: list[str], row: int) -> list[Any]:
    values: list[Any] = []
    for part in re.split(r"[|,]", raw):
        text = part.strip()
        if not text:
            continue
        try:
            if types and types[0] == "integer":
                values.append(int(text))
            elif types and types[0] == "number":
                values.append(float(text))
            elif types and types[0] == "boolean":
                values.append({"true": True, "false": False}[text.lower()])
            else:
                values.append(text)
        except (ValueError, KeyError):
            raise PlanError(f"CSV row {row}: enum value {text!r} is not {types[0]}") from None
    return values


def _property_schema(cells: dict[str, str], row: int) -> dict[str, Any]:
    types, format = _types(cells.get("property data type", ""), row)
    schema: dict[str, Any] = {}
    if types:
        schema["type"] = types[0] if len(types) == 1 else types
    if format:
        schema["format"] = format
    if cells.get("description"):
        schema["description"] = cells["description"]
    allowed = cells.get("allowed property values", "").strip()
    if allowed:
        anchored = allowed.startswith("^") or allowed.endswith("$")
        schema["pattern"] = allowed if anchored else f"^(?:{allowed})$"
    if cells.get("enum values", "").strip():
        schema["enum"] = _enum(cells["enum values"], types, row)
    return schema


def _place(root: dict[str, Any], path: str, schema: dict[str, Any], required: bool) -> None:
    """Put ``schema`` at the dotted ``path`` of the object schema ``root``."""
    steps = path.split(".")
    node = root
    for step in steps[:-1]:
        name, is_array = (step[:-2], True) if step.endswith("[]") else (step, False)
        parent = node.setdefault("properties", {}).setdefault(
            name, {"type": "array" if is_array else "object"}
        )
        node = parent.setdefault("items", {"type": "object"}) if is_array else parent
    last = steps[-1]
    node.setdefault("properties", {})[last] = {**node.get("properties", {}).get(last, {}), **schema}
    if required and last not in node.setdefault("required", []):
        node["required"].append(last)


def from_csv(text: str, *, name: str) -> dict[str, Any]:
    """A plan document named ``name`` from CSV rows; raises :class:`PlanError`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "event name" not in [f.strip().lower() for f in reader.fieldnames]:
        raise PlanError("the CSV needs a header row with at least an 'Event Name' column")
    events: dict[tuple[str, str], dict[str, Any]] = {}
    traits: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(reader, start=2):
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        kind = (cells.get("event type") or "track").lower()
        event, prop = cells.get("event name", ""), cells.get("property name", "")
        required = cells.get("property status", "").lower() == "required"
        if kind in ("identify", "group"):
            if not prop:
                raise PlanError(f"CSV row {index}: an {kind} row needs a property (trait) name")
            schema = traits.setdefault(kind, {"type": "object", "properties": {}})
            _place(schema, prop, _property_schema(cells, index), required)
            continue
        if kind not in ("track", "page", "screen"):
            raise PlanError(f"CSV row {index}: unknown event type {cells['event type']!r}")
        if not event:
            raise PlanError(f"CSV row {index}: the event name is empty")
        spec = events.setdefault(
            (kind, event),
            {"name": event, "type": kind, "schema": {"type": "object", "properties": {}}},
        )
        if prop:
            _place(spec["schema"], prop, _property_schema(cells, index), required)
            continue
        if cells.get("description"):
            spec["description"] = cells["description"]
        labels = [p.split(":", 1) for p in cells.get("labels", "").split(",") if ":" in p]
        if labels:
            spec["labels"] = {k.strip(): v.strip() for k, v in labels}
    document: dict[str, Any] = {"name": name, "events": list(events.values())}
    for kind, schema in traits.items():
        document[f"{kind}_traits"] = schema
    return document


def _rows(kind: str, event: str, schema: dict[str, Any] | None) -> list[list[str]]:
    rows = []
    for rule in flatten(schema):
        types = list(rule.types)
        if rule.format == "date-time" and types == ["string"]:
            types = ["Date time"]
        pattern = rule.pattern or ""
        match = _ANCHORED.match(pattern)
        rows.append(
            [
                kind,
                event,
                rule.path,
                rule.description,
                "Required" if rule.required else "Optional",
                ",".join(types) or "any",
                match.group(1) if match else pattern,
                "|".join(str(v).lower() if isinstance(v, bool) else str(v) for v in rule.enum)
                if rule.enum
                else "",
                "",
            ]
        )
    return rows


def to_csv(plan: PlanDocument) -> str:
    """The plan as CSV rows (what :func:`from_csv` reads back; other JSON Schema keywords,
    and the common schema, do not fit in rows and are left out)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for spec in plan.events:
        kind = spec.type.capitalize()
        labels = ",".join(f"{k}:{v}" for k, v in spec.labels.items())
        writer.writerow([kind, spec.name, "", spec.description, "", "", "", "", labels])
        writer.writerows(_rows(kind, spec.name, spec.schema))
    writer.writerows(_rows("Identify", "", plan.identify_traits))
    writer.writerows(_rows("Group", "", plan.group_traits))
    return out.getvalue()
