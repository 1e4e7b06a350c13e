// A Microsoft Graph JavaScript SDK client that reaches Graph through graphtape, three ways.
//
// Node 20's built-in fetch ignores HTTPS_PROXY, so the SDK (which calls the global fetch) needs one of:
//   "env"    undici's EnvHttpProxyAgent as the global dispatcher: reads HTTPS_PROXY / NO_PROXY like curl does;
//   "agent"  an undici ProxyAgent for the proxy's URL, given to the SDK's fetch as `dispatcher`;
//   "reverse" no proxy at all: graphtape started with --reverse, and the SDK's baseUrl is the proxy's http URL.
// The first two trust the proxy's CA through NODE_EXTRA_CA_CERTS (read by Node at start-up, not here).
import { Client } from "@microsoft/microsoft-graph-client";
import { EnvHttpProxyAgent, ProxyAgent, setGlobalDispatcher } from "undici";

const WAYS = ["env", "agent", "reverse"];

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`client.mjs: set ${name} (graphtape prints it at start; tests/clients/test_node_client.py sets it)`);
  }
  return value;
}

export function makeClient(way, token) {
  if (!WAYS.includes(way)) {
    throw new Error(`client.mjs: unknown way ${JSON.stringify(way)}; use one of ${WAYS.join(", ")}`);
  }
  const options = { authProvider: (done) => done(null, token) };
  if (way === "env") {
    setGlobalDispatcher(new EnvHttpProxyAgent());
  } else if (way === "agent") {
    options.fetchOptions = { dispatcher: new ProxyAgent(required("GRAPHTAPE_PROXY")) };
  } else {
    options.baseUrl = required("GRAPHTAPE_BASE_URL");
  }
  return Client.init(options);
}
