// Set-up snippets for each SDK, pointed at this Headwater (the page's own origin).

export interface Snippet {
  id: string;
  label: string;
  code: string;
}

export function snippets(origin: string, writeKey: string): Snippet[] {
  return [
    {
      id: "snippet",
      label: "Website (snippet)",
      // Segment's snippet, loading analytics.js and its settings from this Headwater
      code: `<script>
  !function(){var HOST="${origin}",KEY="${writeKey}";
  var analytics=window.analytics=window.analytics||[];if(analytics.initialize||analytics.invoked)return;
  analytics.invoked=true;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm",
  "pageview","identify","reset","group","track","ready","alias","debug","page","screen","once",
  "off","on","addSourceMiddleware","addIntegrationMiddleware","setAnonymousId",
  "addDestinationMiddleware","register","deregister"];
  analytics.factory=function(m){return function(){var a=Array.prototype.slice.call(arguments);
  a.unshift(m);analytics.push(a);return analytics}};
  for(var i=0;i<analytics.methods.length;i++){var m=analytics.methods[i];analytics[m]=analytics.factory(m)}
  analytics.load=function(key,options){var s=document.createElement("script");s.async=true;
  s.src=HOST+"/analytics.js/v1/"+key+"/analytics.min.js";
  var first=document.getElementsByTagName("script")[0];first.parentNode.insertBefore(s,first);
  analytics._loadOptions=options};
  analytics._writeKey=KEY;analytics._cdn=HOST;analytics.SNIPPET_VERSION="5.2.0";
  analytics.load(KEY);analytics.page()}();
</script>`,
    },
    {
      id: "browser",
      label: "Website (npm)",
      code: `npm install @segment/analytics-next

import { AnalyticsBrowser } from "@segment/analytics-next";

// settings and any chunk the SDK loads come from this Headwater, not a CDN
export const analytics = AnalyticsBrowser.load({ writeKey: "${writeKey}", cdnURL: "${origin}" });

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
