// A whole mail flow with the official Graph JavaScript SDK, as an app makes it (tests/simulate/test_simulate_node.py
// runs it against `graphtape simulate`): create a draft from JSON and one from MIME, attach a 5 MB file through an
// upload session (the SDK's LargeFileUploadTask), send, read it back from Sent Items, reply, forward, delta.
//
//   GRAPH_TOKEN=... HTTPS_PROXY=... NODE_EXTRA_CA_CERTS=... node simflow.mjs env
// Prints one JSON document: what each step gave back.
import { createHash } from "node:crypto";
import { FileUpload, LargeFileUploadTask } from "@microsoft/microsoft-graph-client";
import { makeClient } from "./client.mjs";

const SUBJECT = "Quarterly report (simulated, from Node)";
const TO = "megan@contoso.com";
const SIZE = 5 * 1024 * 1024;
const RANGE = 10 * 320 * 1024; // a multiple of 320 KiB, as Graph asks
const MIME = [
  "From: Alex Wilber <AlexW@contoso.com>",
  "To: Megan Bowen <MeganB@contoso.com>",
  "Subject: MIME draft (from Node)",
  "Date: Mon, 30 Nov 2026 09:00:00 +0000",
  "MIME-Version: 1.0",
  'Content-Type: text/plain; charset="utf-8"',
  "",
  "The figures follow.",
  "",
].join("\r\n");

function fileBytes() {
  const block = createHash("sha256").update("graphtape simulate").digest();
  const out = Buffer.alloc(SIZE);
  for (let at = 0; at < SIZE; at += block.length) {
    block.copy(out, at);
  }
  return out;
}

async function attach(client, messageId) {
  const bytes = fileBytes();
  const session = await LargeFileUploadTask.createUploadSession(
    client, `/me/messages/${messageId}/attachments/createUploadSession`,
    { AttachmentItem: { attachmentType: "file", name: "figures.bin", size: SIZE } });
  const ranges = [];
  const file = new FileUpload(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + SIZE), "figures.bin", SIZE);
  const task = new LargeFileUploadTask(client, file, session, {
    rangeSize: RANGE,
    uploadEventHandlers: { progress: (range) => ranges.push([range.minValue, range.maxValue]) },
  });
  const result = await task.upload();
  return { ranges, completed: result !== undefined, sha256: createHash("sha256").update(bytes).digest("hex") };
}

async function flow(client) {
  const draft = await client.api("/me/messages").post({
    subject: SUBJECT,
    body: { contentType: "HTML", content: "The figures are <b>attached</b>." },
    toRecipients: [{ emailAddress: { address: TO } }],
  });
  const mime = await client.api("/me/messages").header("Content-Type", "text/plain")
    .post(Buffer.from(MIME, "utf-8").toString("base64"));
  const upload = await attach(client, draft.id);
  await client.api(`/me/messages/${draft.id}/send`).post();
  const listed = await client.api("/me/mailFolders/sentitems/messages").get();
  const sent = listed.value.find((m) => m.subject === SUBJECT);
  const attachments = await client.api(`/me/messages/${sent.id}/attachments`).get();
  await client.api(`/me/messages/${sent.id}/reply`).post({ comment: "Thanks, noted." });
  await client.api(`/me/messages/${sent.id}/forward`).post({
    comment: "FYI", toRecipients: [{ emailAddress: { address: "adele@contoso.com" } }],
  });
  const delta = await client.api("/me/mailFolders/sentitems/messages/delta").get();
  return {
    draft: { subject: draft.subject, isDraft: draft.isDraft },
    mime: { subject: mime.subject, from: mime.from?.emailAddress?.address ?? null },
    upload,
    sent: { subject: sent.subject, isDraft: sent.isDraft, to: sent.toRecipients.map((r) => r.emailAddress.address) },
    attachments: attachments.value.map((a) => [a.name, a.size]),
    delta: {
      subjects: delta.value.map((m) => m.subject).sort(),
      link: Boolean(delta["@odata.deltaLink"] || delta["@odata.nextLink"]),
    },
  };
}

const way = process.argv[2] || "env";
flow(makeClient(way, process.env.GRAPH_TOKEN || "graphtape-test-token"))
  .then((result) => process.stdout.write(JSON.stringify(result) + "\n"))
  .catch((e) => {
    const detail = e && e.statusCode !== undefined ? ` (${e.statusCode} ${e.code}: ${e.message})` : "";
    process.stderr.write(`simflow.mjs: ${e && e.stack ? e.stack : e}${detail}\n`);
    process.exit(1);
  });
