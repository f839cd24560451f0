// @vitest-environment jsdom
// The journey's settings as a person edits them: the trigger's event, exit rules and the goal
// take property filters through the audience builder's controls, and the document handed on
// holds them in the language's shape (graph.py's EventSpec: event, event_type, where).
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { Document } from "./graph";
import { JourneySettings } from "./Settings";

afterEach(cleanup);

const START: Document = {
  version: 1,
  trigger: { type: "event", event: "Order Completed", audience: "buyers" },
  exits: [{ event: "Unsubscribed" }],
  goal: null,
  start: "a",
  nodes: {},
};

function draw(document: Document, readOnly = false) {
  const seen: Document[] = [];
  function Harness() {
    const [current, setCurrent] = useState(document);
    return (
      <JourneySettings
        document={current}
        readOnly={readOnly}
        onChange={(next) => {
          setCurrent(next);
          seen.push(next);
        }}
      />
    );
  }
  render(<Harness />);
  return { user: userEvent.setup({ delay: null }), last: () => seen[seen.length - 1] };
}

describe("the journey's events", () => {
  it("filter the trigger on a property, keeping its audience", async () => {
    const { user, last } = draw(START);
    expect(screen.getByRole("textbox", { name: "Trigger event: name" })).toHaveProperty("value", "Order Completed");
    await user.click(screen.getByRole("button", { name: "+ Property filter (Trigger event)" }));
    await user.type(screen.getByRole("textbox", { name: "Trigger event, filter 1: property" }), "total");
    await user.selectOptions(screen.getByRole("combobox", { name: "Trigger event, filter 1: comparison" }), "greater_than");
    await user.type(screen.getByRole("spinbutton", { name: "Trigger event, filter 1: value" }), "50");
    expect(last()?.trigger).toEqual({
      type: "event",
      event: "Order Completed",
      audience: "buyers",
      where: [{ property: "total", operator: "greater_than", value: 50 }],
    });
  });

  it("give exit rules a kind and filters of their own", async () => {
    const { user, last } = draw(START);
    await user.click(screen.getByRole("button", { name: "Add an exit event" }));
    await user.selectOptions(screen.getByRole("combobox", { name: "Exit event 2: kind" }), "page");
    await user.type(screen.getByRole("textbox", { name: "Exit event 2: name" }), "Pricing");
    await user.click(screen.getByRole("button", { name: "+ Property filter (Exit event 1)" }));
    await user.type(screen.getByRole("textbox", { name: "Exit event 1, filter 1: property" }), "reason");
    await user.selectOptions(screen.getByRole("combobox", { name: "Exit event 1, filter 1: comparison" }), "exists");
    expect(last()?.exits).toEqual([
      { event: "Unsubscribed", where: [{ property: "reason", operator: "exists" }] },
      { event: "Pricing", event_type: "page" },
    ]);
  });

  it("require consent categories typed with commas, and none once emptied", async () => {
    const { user, last } = draw(START);
    const consent = screen.getByRole("textbox", { name: /Only people who consented to/ });
    await user.type(consent, "Marketing, Email,");
    expect(last()?.entry).toEqual({ mode: "once", consent: ["Marketing", "Email"] });
    expect(consent).toHaveProperty("value", "Marketing, Email,");
    await user.clear(consent);
    expect(last()?.entry).toEqual({ mode: "once" });
  });

  it("keep the goal's window beside its event", async () => {
    const { user, last } = draw(START);
    await user.click(screen.getByRole("checkbox", { name: "Count a conversion" }));
    await user.type(screen.getByRole("textbox", { name: "Goal event: name" }), "Upgraded");
    expect(last()?.goal).toEqual({ event: "Upgraded", within: { days: 14 } });
  });

  it("are shown, not editable, when read only", () => {
    draw({ ...START, trigger: { ...START.trigger, where: [{ property: "total", operator: "exists" }] } }, true);
    // disabled by the settings' fieldset
    expect(screen.getByRole("textbox", { name: "Trigger event, filter 1: property" }).matches(":disabled")).toBe(true);
    expect(screen.queryByRole("button", { name: "Add an exit event" })).toBeNull();
  });
});
