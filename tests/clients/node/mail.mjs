// Mail calls as an app makes them with the official Graph JavaScript SDK; prints one JSON document of results.
//
//   GRAPH_TOKEN=... HTTPS_PROXY=... NODE_EXTRA_CA_CERTS=... node mail.mjs env draft-send sendmail-mime
//   GRAPHTAPE_BASE_URL=http://127.0.0.1:8080/v1.0 node mail.mjs reverse draft-send
//
// Scenarios: draft-send (create a draft from JSON, then send it), sendmail-mime (sendMail with a base64 MIME
// message), broken-mime (the same with a body that is not base64),
// mime-without-content-type (the MIME message posted as the SDK labels a string by default), probe (a POST to GRAPHTAPE_PROBE_URL).
import { ResponseType } from "@microsoft/microsoft-graph-client";
import { makeClient } from "./client.mjs";

const CRLF = "\r\n";
const MIME = [
  "From: Alex Wilber <AlexW@contoso.com>",
  "To: Megan Bowen <MeganB@contoso.com>",
  "Subject: Quarterly report (MIME, from Node)",
  "Date: Mon, 30 Nov 2026 09:00:00 +0000",
  "MIME-Version: 1.0",
  'Content-Type: text/plain; charset="utf-8"',
  "",
  "The figures are attached.",
  "",
].join(CRLF);

const mimeBase64 = () => Buffer.from(MIME, "utf-8").toString("base64");

const DRAFT = {
  subject: "Quarterly report (from Node)",
  body: { contentType: "Text", content: "Attached." },
  toRecipients: [{ emailAddress: { address: "megan@contoso.com" } }],
};

async function draftSend(client) {
  const draft = await client.api("/me/messages").post(DRAFT);
  // send has no body (as in Graph's JavaScript sample); RAW hands the app the 202 itself, which has no content
  const send = await client.api(`/me/messages/${draft.id}/send`).responseType(ResponseType.RAW).post();
  return { id: draft.id, subject: draft.subject, to: draft.toRecipients[0].emailAddress.address,
           send: send.status };
}

async function sendMime(client, body, contentType = "text/plain") {
  // Graph takes a MIME message as base64 text; the SDK labels a string application/json unless told otherwise.
  // As an app writes it: the SDK resolves on a 2xx (Graph's 202 has no content) and throws a GraphError otherwise.
  const request = client.api("/me/sendMail");
  const returned = await (contentType ? request.header("Content-Type", contentType) : request).post(body);
  return { sent: true, returned: returned ?? null };
}

async function probe(client) {
  const url = process.env.GRAPHTAPE_PROBE_URL;
  if (!url) {
    throw new Error("mail.mjs: the probe scenario needs GRAPHTAPE_PROBE_URL");
  }
  await client.api(url).post({ message: { subject: "probe" } });
  return { status: "accepted" };
}

const SCENARIOS = {
  "draft-send": draftSend,
  "sendmail-mime": (client) => sendMime(client, mimeBase64()),
  "broken-mime": (client) => sendMime(client, "RnJvbTogQWxleCBXaWxiZXI=!!not base64!!"),
  "mime-without-content-type": (client) => sendMime(client, mimeBase64(), null),
  probe,
};

async function run(client, name) {
  const scenario = SCENARIOS[name];
  if (!scenario) {
    throw new Error(`mail.mjs: unknown scenario ${JSON.stringify(name)}; use ${Object.keys(SCENARIOS).join(", ")}`);
  }
  try {
    return { scenario: name, result: await scenario(client) };
  } catch (e) {
    if (e && e.statusCode !== undefined) { // the SDK's GraphError: what Graph (or graphtape) answered
      return { scenario: name, error: { status: e.statusCode, code: e.code, message: e.message } };
    }
    throw e;
  }
}

async function main(argv) {
  const [way, ...names] = argv;
  if (!way || names.length === 0) {
    throw new Error("usage: node mail.mjs env|agent|reverse SCENARIO...");
  }
  const client = makeClient(way, process.env.GRAPH_TOKEN || "graphtape-test-token");
  const results = [];
  for (const name of names) {
    results.push(await run(client, name));
  }
  process.stdout.write(JSON.stringify(results) + "\n");
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`mail.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
