// Set-up snippets for each SDK, pointed at this Headwater (the page's own origin).

export interface Snippet {
  id: string;
  label: string;
  code: string;
}

export function snippets(origin: string, writeKey: string): Snippet[] {
  return [
    {
      id: "browser",
      label: "Website (analytics.js)",
      code: `npm install @segment/analytics-next

import { AnalyticsBrowser } from "@segment/analytics-next";

export const analytics = AnalyticsBrowser.load(
  {
    writeKey: "${writeKey}",
    // settings given here: nothing is fetched from a CDN
    cdnSettings: {
      integrations: {
        "Segment.io": { apiKey: "${writeKey}", apiHost: "${hostOf(origin)}/v1", protocol: "${protocolOf(origin)}" },
      },
    },
  },
);

analytics.track("Signed Up", { plan: "pro" });`,
    },
    {
      id: "node",
      label: "Node.js",
      code: `npm install @segment/analytics-node

import { Analytics } from "@segment/analytics-node";

const analytics = new Analytics({ writeKey: "${writeKey}", host: "${origin}" });
analytics.identify({ userId: "user-1", traits: { email: "ada@example.com" } });
analytics.track({ userId: "user-1", event: "Order Completed", properties: { total: 42 } });
await analytics.closeAndFlush();`,
    },
    {
      id: "python",
      label: "Python",
      code: `pip install segment-analytics-python

import segment.analytics as analytics

analytics.write_key = "${writeKey}"
analytics.host = "${origin}"
analytics.identify("user-1", {"email": "ada@example.com"})
analytics.track("user-1", "Order Completed", {"total": 42})
analytics.flush()`,
    },
    {
      id: "rudderstack",
      label: "RudderStack (Node.js)",
      code: `npm install @rudderstack/rudder-sdk-node

import Analytics from "@rudderstack/rudder-sdk-node";

const client = new Analytics("${writeKey}", { dataPlaneUrl: "${origin}" });
client.track({ userId: "user-1", event: "Order Completed", properties: { total: 42 } });
await client.flush();`,
    },
    {
      id: "curl",
      label: "HTTP (curl)",
      code: `curl ${origin}/v1/track \\
  -u "${writeKey}:" \\
  -H "Content-Type: application/json" \\
  -d '{"userId": "user-1", "event": "Order Completed", "properties": {"total": 42}}'`,
    },
  ];
}

function hostOf(origin: string): string {
  return origin.replace(/^https?:\/\//, "");
}

function protocolOf(origin: string): string {
  return origin.startsWith("https:") ? "https" : "http";
}
