#!/usr/bin/env node
// Runs AWS SDK for JavaScript v3 operations for the C++ tests and prints
// their outcomes as one JSON array on stdout.
//
//   node sdk-smoke.mjs '<json>'
//
// <json> = {"dynamodb": URL, "s3": URL, "access_key": AK, "secret_key": SK,
//           "region": R, "ops": [op, ...]}
// Every op is {"op": NAME, ...arguments}; it may also override access_key,
// secret_key, session_token, region, dynamodb, s3, clock_offset_ms (the
// SDK signs with its clock moved by that much) and max_attempts (default 1:
// the outcome of the first attempt; more lets the SDK retry as it would).
// Ops and their results (besides "ok": true):
//   dynamodb.create_table {table}                 (key "id", string)
//   dynamodb.put_item     {table, item}           item as plain JSON
//   dynamodb.get_item     {table, key}            -> {item} or {item: null}
//   dynamodb.list_tables  {}                      -> {tables}
//   s3.create_bucket      {bucket}
//   s3.put_object         {bucket, key, body, content_type?}   body: UTF-8 text
//   s3.get_object         {bucket, key}           -> {body, content_type}
//   s3.head_object        {bucket, key}           -> {content_length, content_type}
//   s3.delete_object      {bucket, key}
//   s3.list_objects       {bucket, prefix?}       -> {keys}
//   s3.presign_get        {bucket, key, expires_in?, signed_seconds_ago?} -> {url}
//   dynamodb.scan         {table}                 -> {items} (every page, ConsistentRead)
//   s3.put_object_base64  {bucket, key, body_base64, content_type?}  binary bodies
//   s3.get_object_base64  {bucket, key}           -> {body_base64, content_type,
//                                                     server_side_encryption (or null)}
// A failed op gives {"ok": false, "name", "status", "message"}; the rest still run.
// Each SDK client is loaded only when an op needs it: loading costs more than most ops.
let dynamodbSdk, s3Sdk, presigner;
const loadDynamodb = async () => (dynamodbSdk ??= await import("@aws-sdk/client-dynamodb"));
const loadS3 = async () => (s3Sdk ??= await import("@aws-sdk/client-s3"));
const loadPresigner = async () => (presigner ??= await import("@aws-sdk/s3-request-presigner"));

// Plain JSON <-> DynamoDB attribute values (no @aws-sdk/util-dynamodb here).
function marshall(v) {
  if (v === null) return { NULL: true };
  if (typeof v === "string") return { S: v };
  if (typeof v === "number") return { N: String(v) };
  if (typeof v === "boolean") return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(marshall) };
  return { M: marshallItem(v) };
}
function marshallItem(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, marshall(v)]));
}
function unmarshall(a) {
  if ("S" in a) return a.S;
  if ("N" in a) return Number(a.N);
  if ("BOOL" in a) return a.BOOL;
  if ("NULL" in a) return null;
  if ("L" in a) return a.L.map(unmarshall);
  if ("M" in a) return unmarshallItem(a.M);
  if ("SS" in a) return a.SS;
  return a;
}
function unmarshallItem(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unmarshall(v)]));
}

function clientConfig(spec, service) {
  const credentials = { accessKeyId: spec.access_key, secretAccessKey: spec.secret_key };
  if (spec.session_token) credentials.sessionToken = spec.session_token;
  return {
    endpoint: spec[service],
    region: spec.region,
    credentials,
    maxAttempts: spec.max_attempts ?? 1,
    systemClockOffset: spec.clock_offset_ms ?? 0,
    ...(service === "s3" ? { forcePathStyle: true } : {}),
  };
}

const ops = {
  async "dynamodb.create_table"(db, a) {
    const { CreateTableCommand } = await loadDynamodb();
    await db.send(new CreateTableCommand({
      TableName: a.table,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }));
    return {};
  },
  async "dynamodb.put_item"(db, a) {
    const { PutItemCommand } = await loadDynamodb();
    await db.send(new PutItemCommand({ TableName: a.table, Item: marshallItem(a.item) }));
    return {};
  },
  async "dynamodb.get_item"(db, a) {
    const { GetItemCommand } = await loadDynamodb();
    const r = await db.send(new GetItemCommand({ TableName: a.table, Key: marshallItem(a.key), ConsistentRead: true }));
    return { item: r.Item ? unmarshallItem(r.Item) : null };
  },
  async "dynamodb.scan"(db, a) {
    const { ScanCommand } = await loadDynamodb();
    const items = [];
    let start;
    do {
      const r = await db.send(new ScanCommand({ TableName: a.table, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const i of r.Items ?? []) items.push(unmarshallItem(i));
      start = r.LastEvaluatedKey;
    } while (start);
    return { items };
  },
  async "dynamodb.list_tables"(db) {
    const { ListTablesCommand } = await loadDynamodb();
    const r = await db.send(new ListTablesCommand({}));
    return { tables: r.TableNames ?? [] };
  },
  async "s3.create_bucket"(s3, a) {
    const { CreateBucketCommand } = await loadS3();
    await s3.send(new CreateBucketCommand({ Bucket: a.bucket }));
    return {};
  },
  async "s3.put_object"(s3, a) {
    const { PutObjectCommand } = await loadS3();
    await s3.send(new PutObjectCommand({ Bucket: a.bucket, Key: a.key, Body: Buffer.from(a.body, "utf8"),
      ContentType: a.content_type ?? "application/octet-stream" }));
    return {};
  },
  async "s3.get_object"(s3, a) {
    const { GetObjectCommand } = await loadS3();
    const r = await s3.send(new GetObjectCommand({ Bucket: a.bucket, Key: a.key }));
    return { body: await r.Body.transformToString("utf8"), content_type: r.ContentType ?? null };
  },
  async "s3.put_object_base64"(s3, a) {
    const { PutObjectCommand } = await loadS3();
    await s3.send(new PutObjectCommand({ Bucket: a.bucket, Key: a.key, Body: Buffer.from(a.body_base64, "base64"),
      ContentType: a.content_type ?? "application/octet-stream" }));
    return {};
  },
  async "s3.get_object_base64"(s3, a) {
    const { GetObjectCommand } = await loadS3();
    const r = await s3.send(new GetObjectCommand({ Bucket: a.bucket, Key: a.key }));
    return { body_base64: Buffer.from(await r.Body.transformToByteArray()).toString("base64"),
      content_type: r.ContentType ?? null, server_side_encryption: r.ServerSideEncryption ?? null };
  },
  async "s3.head_object"(s3, a) {
    const { HeadObjectCommand } = await loadS3();
    const r = await s3.send(new HeadObjectCommand({ Bucket: a.bucket, Key: a.key }));
    return { content_length: r.ContentLength ?? null, content_type: r.ContentType ?? null };
  },
  async "s3.delete_object"(s3, a) {
    const { DeleteObjectCommand } = await loadS3();
    await s3.send(new DeleteObjectCommand({ Bucket: a.bucket, Key: a.key }));
    return {};
  },
  async "s3.list_objects"(s3, a) {
    const { ListObjectsV2Command } = await loadS3();
    const r = await s3.send(new ListObjectsV2Command({ Bucket: a.bucket, Prefix: a.prefix }));
    return { keys: (r.Contents ?? []).map((o) => o.Key) };
  },
  async "s3.presign_get"(s3, a) {
    const { GetObjectCommand } = await loadS3();
    const { getSignedUrl } = await loadPresigner();
    const options = { expiresIn: a.expires_in ?? 900 };
    if (a.signed_seconds_ago) options.signingDate = new Date(Date.now() - a.signed_seconds_ago * 1000);
    return { url: await getSignedUrl(s3, new GetObjectCommand({ Bucket: a.bucket, Key: a.key }), options) };
  },
};

async function main() {
  if (process.argv.length !== 3) {
    process.stderr.write("usage: node sdk-smoke.mjs '<json>'\n");
    process.exit(2);
  }
  const config = JSON.parse(process.argv[2]);
  const results = [];
  for (const op of config.ops ?? []) {
    const spec = { ...config, ...op };
    const run = ops[op.op];
    if (!run) {
      results.push({ ok: false, name: "UnknownOp", status: 0, message: `no such op: ${op.op}` });
      continue;
    }
    const service = op.op.startsWith("s3.") ? "s3" : "dynamodb";
    const sdk = service === "s3" ? await loadS3() : await loadDynamodb();
    const client = new (service === "s3" ? sdk.S3Client : sdk.DynamoDBClient)(clientConfig(spec, service));
    try {
      results.push({ ok: true, ...(await run(client, op)) });
    } catch (e) {
      results.push({ ok: false, name: e.name ?? "Error", status: e.$metadata?.httpStatusCode ?? 0,
        message: String(e.message ?? e) });
    } finally {
      client.destroy();
    }
  }
  process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((e) => {
  process.stderr.write(`sdk-smoke: ${e.stack ?? e}\n`);
  process.exit(1);
});
