// Sends Segment-spec calls through the official @segment/analytics-node SDK.
//
//   node send.mjs HOST WRITE_KEY < calls.json
//
// calls.json is a JSON list of messages, each with its "type" (identify, track, page, screen,
// group, alias) and the fields of that SDK method's parameter object; "timestamp" is an ISO-8601
// string, passed on as a Date. Every call goes into one batch; closeAndFlush() sends it.
// Prints {"requests": [...], "responses": [...], "errors": [...]} on stdout and exits 1 when
// the SDK reported any error (a failed delivery included), 2 on bad usage.

import { Analytics } from '@segment/analytics-node'

const METHODS = new Set(['identify', 'track', 'page', 'screen', 'group', 'alias'])
const FLUSH_TIMEOUT_MS = 20000

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

async function main() {
  const [host, writeKey] = process.argv.slice(2)
  if (!host || !writeKey) {
    console.error('usage: node send.mjs HOST WRITE_KEY < calls.json')
    return 2
  }
  const calls = JSON.parse(await readStdin())
  if (!Array.isArray(calls) || calls.length === 0) {
    console.error('stdin must hold a non-empty JSON list of calls')
    return 2
  }

  const analytics = new Analytics({
    writeKey,
    host,
    flushAt: calls.length,
    flushInterval: 1000,
    maxRetries: 1,
    httpRequestTimeout: 10000,
  })
  const requests = []
  const responses = []
  const errors = []
  analytics.on('http_request', (request) => {
    requests.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: JSON.parse(request.body),
    })
  })
  analytics.on('http_response', (response) => responses.push(response.status))
  analytics.on('error', (error) => errors.push(String(error.reason ?? error.code ?? error)))

  for (const { type, timestamp, ...params } of calls) {
    if (!METHODS.has(type)) {
      console.error(`unknown call type ${JSON.stringify(type)}`)
      return 2
    }
    analytics[type]({ ...params, ...(timestamp ? { timestamp: new Date(timestamp) } : {}) })
  }
  await analytics.closeAndFlush({ timeout: FLUSH_TIMEOUT_MS })

  process.stdout.write(JSON.stringify({ requests, responses, errors }))
  return errors.length === 0 && responses.length > 0 ? 0 : 1
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
