#!/usr/bin/env node
// Parses RFC 5322 messages with mailparser (an implementation that shares
// no code with Gatehouse's composer) and prints what a mail client would
// show, one JSON object per file, as a JSON array on stdout:
//
//   node read-mail.mjs FILE...
//   [{"file", "from": {"name", "address"}, "to": {...}, "subject", "date",
//     "messageId", "headers": {"auto-submitted": ...}, "headerLines": [raw...],
//     "text", "html", "attachments": N, "maxLineBytes": N, "bareLf": bool}]
//
// maxLineBytes is the longest raw line (CRLF excluded) and bareLf whether
// any LF came without its CR: the checks RFC 5322 section 2.1.1 and 2.3 ask.
import fs from "node:fs";
import { simpleParser } from "mailparser";

function first(list) {
  const v = list && list.value && list.value[0];
  return v ? { name: v.name, address: v.address } : null;
}

const out = [];
for (const file of process.argv.slice(2)) {
  const raw = fs.readFileSync(file);
  const text = raw.toString("latin1");
  let maxLineBytes = 0;
  for (const line of text.split("\r\n")) maxLineBytes = Math.max(maxLineBytes, line.length);
  const bareLf = /(^|[^\r])\n/.test(text);
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  const headers = {};
  for (const [k, v] of mail.headers) headers[k] = typeof v === "string" ? v : JSON.stringify(v);
  out.push({
    file,
    from: first(mail.from),
    to: first(mail.to),
    toCount: mail.to && mail.to.value ? mail.to.value.length : 0,
    subject: mail.subject ?? null,
    date: mail.date ? mail.date.toISOString() : null,
    messageId: mail.messageId ?? null,
    headers,
    headerLines: mail.headerLines.map((h) => h.line),
    text: mail.text ?? null,
    html: typeof mail.html === "string" ? mail.html : null,
    attachments: mail.attachments.length,
    maxLineBytes,
    bareLf,
  });
}
process.stdout.write(JSON.stringify(out) + "\n");
