// A destination's delivery options as form text, in the units a person thinks in (minutes, a
// percent), and back into the API's options. An empty box is the default.
import type { components } from "../../api/schema";

export type Delivery = components["schemas"]["DeliveryView"];
type NumberKey = Exclude<keyof Delivery, "ordered">;
export type DeliveryDraft = Record<NumberKey, string> & { ordered: boolean };

interface NumberOption {
  key: NumberKey;
  label: string;
  help: string;
  /** The API's unit per shown unit: 60 for minutes shown, seconds stored. */
  scale: number;
  /** Empty is null (the connector's or the server's default), not the option's default. */
  optional?: true;
}

export const NUMBER_OPTIONS: NumberOption[] = [
  { key: "batch_size", label: "Events per request", help: "Empty: as many as this kind of destination takes (up to 1,000).", scale: 1, optional: true },
  { key: "concurrency", label: "Requests at once", help: "Per worker process, 1 to 64.", scale: 1 },
  { key: "rate_limit", label: "At most this many events a second", help: "Per worker process. Empty: no limit.", scale: 1, optional: true },
  {
    key: "retry_window_seconds",
    label: "Keep retrying a failed event for (minutes)",
    help: "Then it becomes a dead letter. Empty: the server's setting.",
    scale: 60,
    optional: true,
  },
  { key: "timeout_seconds", label: "Wait for an answer for (seconds)", help: "Up to 300.", scale: 1 },
  { key: "alert_below", label: "Alert when fewer than this share succeed (%)", help: "0 to 100.", scale: 0.01 },
  { key: "alert_window_minutes", label: "Judge the share over the last (minutes)", help: "1 to 1,440.", scale: 1 },
];

/** The options as form text. */
export function draftOf(delivery: Delivery): DeliveryDraft {
  const draft = { ordered: delivery.ordered } as DeliveryDraft;
  for (const { key, scale } of NUMBER_OPTIONS) {
    const value = delivery[key];
    // rounded so that 0.9 shows as 90, not 90.00000000000001
    draft[key] = value === null || value === undefined ? "" : String(Number((value / scale).toPrecision(12)));
  }
  return draft;
}

/** The options to send: a box left empty is null (the default), a number is in the API's unit. */
export function deliveryOf(draft: DeliveryDraft): Record<string, number | boolean | null> {
  const options: Record<string, number | boolean | null> = { ordered: draft.ordered };
  for (const { key, scale, optional } of NUMBER_OPTIONS) {
    const text = draft[key].trim();
    if (text === "") {
      // left out, an option takes its default
      if (optional) options[key] = null;
      continue;
    }
    options[key] = Number((Number(text) * scale).toPrecision(12));
  }
  return options;
}
