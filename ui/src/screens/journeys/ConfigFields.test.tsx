// @vitest-environment jsdom
// A wait's event filters are edited with the condition builder's property filters: typed values
// in the event spec's `where`, as graph.py reads it.
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, expect, it } from "vitest";
import { ConfigFields } from "./ConfigFields";
import type { JsonSchema } from "./schema";

afterEach(cleanup);

// the shape of wait_event's config schema, as pydantic gives it
const SCHEMA: JsonSchema = {
  type: "object",
  properties: { events: { type: "array", items: { $ref: "#/$defs/EventPort" } } },
  $defs: {
    EventPort: {
      type: "object",
      properties: {
        port: { type: "string" },
        event: { anyOf: [{ type: "string" }, { type: "null" }] },
        where: { type: "array", items: { $ref: "#/$defs/PropertyFilter" } },
      },
      required: ["port"],
    },
    PropertyFilter: { type: "object", properties: { property: { type: "string" } } },
  },
};

it("edits a wait's event filters as the condition builder does", async () => {
  const seen: Record<string, unknown>[] = [];
  function Harness() {
    const [values, setValues] = useState<Record<string, unknown>>({ events: [{ port: "bought", event: "Order Completed" }] });
    return (
      <ConfigFields
        schema={SCHEMA}
        root={SCHEMA}
        values={values}
        readOnly={false}
        path="wait"
        onChange={(next) => {
          setValues(next);
          seen.push(next);
        }}
      />
    );
  }
  render(<Harness />);
  const user = userEvent.setup({ delay: null });
  await user.click(screen.getByRole("button", { name: "+ Property filter (wait Events 1 Where)" }));
  await user.type(screen.getByRole("textbox", { name: "wait Events 1 Where, filter 1: property" }), "total");
  await user.selectOptions(screen.getByRole("combobox", { name: "wait Events 1 Where, filter 1: comparison" }), "at_least");
  await user.type(screen.getByRole("spinbutton", { name: "wait Events 1 Where, filter 1: value" }), "20");
  expect(seen[seen.length - 1]).toEqual({
    events: [{ port: "bought", event: "Order Completed", where: [{ property: "total", operator: "at_least", value: 20 }] }],
  });
  await user.click(screen.getByRole("button", { name: "Remove wait Events 1 Where, filter 1" }));
  expect(seen[seen.length - 1]).toEqual({ events: [{ port: "bought", event: "Order Completed" }] });
});
