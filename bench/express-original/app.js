'use strict';
// The Node.js/Express backend Gatehouse replaces, as its guide
// (shared/seed/serverless-backend-guide.md) describes it: one Express app
// behind one Lambda, users in DynamoDB (login and the e-mail check by Scan,
// as the guide's IAM list implies), passwords with bcryptjs, JWT HS256,
// profile images streamed to S3 by multer-s3 with the object URL stored.
//
// It is the benchmark baseline (issue 7), not a product: it keeps the
// original's shape and its gaps. Only where the guide is silent does it
// follow API.md (routes, status codes, JSON shapes), so that the same load
// scripts run against both. README.md lists every deliberate difference.
const crypto = require('crypto');
const express = require('express');
const AWS = require('aws-sdk');
const bcrypt = require('bcryptjs');
const jwt = require('jsonwebtoken');
const multer = require('multer');
const multerS3 = require('multer-s3');

const USERS_TABLE = process.env.USERS_TABLE || 'Users';
const BUCKET = process.env.BUCKET;
const JWT_SECRET = process.env.JWT_SECRET;
const BCRYPT_COST = Number(process.env.BCRYPT_COST || 10);
const TOKEN_LIFETIME_S = 3600; // the usual expiresIn: '1h'

// Region and credentials come from the environment (AWS_REGION,
// AWS_ACCESS_KEY_ID, ...) as the SDK reads them in Lambda. The endpoint
// overrides exist only to point the SDK at local peers (dynalite, s3rver).
const db = new AWS.DynamoDB.DocumentClient(
  process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {});
const s3 = new AWS.S3(
  process.env.S3_ENDPOINT ? { endpoint: process.env.S3_ENDPOINT, s3ForcePathStyle: true } : {});

const app = express();
app.use(express.json());

// API.md: every response carries x-request-id. serverless-http already puts
// API Gateway's request id into this request header when the client sent none.
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
app.use((req, res, next) => {
  const sent = req.headers['x-request-id'];
  const gateway = req.requestContext && req.requestContext.requestId;
  res.set('x-request-id',
    typeof sent === 'string' && SANE_REQUEST_ID.test(sent) ? sent : gateway || crypto.randomUUID());
  next();
});

function fail(res, status, code, message, field) {
  const error = { code, message };
  if (field) error.field = field;
  return res.status(status).json({ error });
}

// The stored item minus the password hash, in API.md's User shape.
function publicUser(item) {
  return {
    userId: item.userId,
    name: item.name,
    email: item.email,
    profile_image: item.profile_image || null,
    createdAt: item.createdAt,
  };
}

// Login and signup find a user by e-mail with one Scan call, as the original
// did (no GSI; Scan is in its IAM list). One call reads at most 1 MB of the
// table, so beyond that an existing e-mail can be missed: see README.md.
async function findByEmail(email) {
  const result = await db.scan({
    TableName: USERS_TABLE,
    FilterExpression: 'email = :email',
    ExpressionAttributeValues: { ':email': email },
  }).promise();
  return result.Items[0];
}

// Wraps an async route so a rejection reaches the error handler (Express 4
// does not do this by itself).
const route = (fn) => (req, res, next) => fn(req, res, next).catch(next);

function requireFields(res, body, fields) {
  for (const field of fields) {
    if (!body || !body[field]) {
      fail(res, 400, 'validation_failed', `${field} is required`, field);
      return false;
    }
  }
  return true;
}

function auth(req, res, next) {
  const [scheme, token] = (req.headers.authorization || '').split(' ');
  if (scheme !== 'Bearer' || !token) {
    res.set('WWW-Authenticate', 'Bearer');
    return fail(res, 401, 'unauthorized', 'a bearer token is required');
  }
  try {
    req.user = jwt.verify(token, JWT_SECRET);
  } catch (err) {
    res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    return fail(res, 401, 'unauthorized', 'invalid or expired token');
  }
  return next();
}

app.get('/health', (req, res) => {
  res.json({ status: 'ok' });
});

app.post('/signup', route(async (req, res) => {
  if (!requireFields(res, req.body, ['name', 'email', 'password'])) return;
  const { name, email, password } = req.body;
  if (await findByEmail(email)) return fail(res, 409, 'email_taken', 'email already registered');
  const user = {
    userId: crypto.randomUUID(),
    name,
    email,
    password: await bcrypt.hash(password, BCRYPT_COST),
    profile_image: null,
    createdAt: new Date().toISOString(),
  };
  await db.put({ TableName: USERS_TABLE, Item: user }).promise();
  res.status(201).json({ user: publicUser(user) });
}));

app.post('/login', route(async (req, res) => {
  if (!requireFields(res, req.body, ['email', 'password'])) return;
  const { email, password } = req.body;
  const user = await findByEmail(email);
  if (!user || !(await bcrypt.compare(password, user.password))) {
    return fail(res, 401, 'invalid_credentials', 'invalid email or password');
  }
  const token = jwt.sign({ userId: user.userId, email: user.email }, JWT_SECRET,
    { expiresIn: TOKEN_LIFETIME_S });
  res.json({ token, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_S, user: publicUser(user) });
}));

// The original returned one Scan; `limit` maps to Scan's Limit and the cursor
// to its ExclusiveStartKey so that GET /users?limit=25 does the same work as
// Gatehouse's page.
app.get('/users', auth, route(async (req, res) => {
  const limit = req.query.limit === undefined ? 25 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return fail(res, 400, 'validation_failed', 'limit must be 1..100', 'limit');
  }
  const params = { TableName: USERS_TABLE, Limit: limit };
  if (req.query.cursor !== undefined) {
    try {
      params.ExclusiveStartKey = JSON.parse(Buffer.from(String(req.query.cursor), 'base64url').toString('utf8'));
    } catch (err) {
      return fail(res, 400, 'validation_failed', 'malformed cursor', 'cursor');
    }
  }
  let result;
  try {
    result = await db.scan(params).promise();
  } catch (err) {
    if (params.ExclusiveStartKey && err.code === 'ValidationException') {
      return fail(res, 400, 'validation_failed', 'malformed cursor', 'cursor');
    }
    throw err;
  }
  res.json({
    users: result.Items.map(publicUser),
    next_cursor: result.LastEvaluatedKey
      ? Buffer.from(JSON.stringify(result.LastEvaluatedKey)).toString('base64url') : null,
  });
}));

app.get('/users/me', auth, route(async (req, res) => {
  const result = await db.get({ TableName: USERS_TABLE, Key: { userId: req.user.userId } }).promise();
  if (!result.Item) return fail(res, 404, 'not_found', 'user not found');
  res.json({ user: publicUser(result.Item) });
}));

// multer-s3 2.x streams the part straight to S3 with the SDK v2 client's
// upload(); file.location is the object URL the original stored.
const upload = multer({
  storage: multerS3({
    s3,
    bucket: BUCKET,
    key: (req, file, cb) => cb(null, `profile-images/${req.user.userId}/${Date.now()}-${file.originalname}`),
  }),
});

app.post('/upload_profile_pic', auth, upload.single('image'), route(async (req, res) => {
  if (!req.file) return fail(res, 400, 'missing_file', 'an "image" file part is required');
  const result = await db.update({
    TableName: USERS_TABLE,
    Key: { userId: req.user.userId },
    UpdateExpression: 'SET profile_image = :url',
    ExpressionAttributeValues: { ':url': req.file.location },
    ReturnValues: 'ALL_NEW',
  }).promise();
  res.json({ user: publicUser(result.Attributes) });
}));

// API.md's 404 / 405 in its error shape (Express would answer HTML).
const ALLOWED = {
  '/health': 'GET, HEAD', '/signup': 'POST', '/login': 'POST', '/users': 'GET, HEAD',
  '/users/me': 'GET, HEAD', '/upload_profile_pic': 'POST',
};
app.use((req, res) => {
  const allow = ALLOWED[req.path];
  if (allow) {
    res.set('Allow', allow);
    return fail(res, 405, 'method_not_allowed', `${req.method} is not allowed here`);
  }
  return fail(res, 404, 'not_found', 'no such route');
});

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  if (err.type === 'entity.parse.failed') return fail(res, 400, 'invalid_json', 'malformed JSON body');
  if (err.type === 'entity.too.large') return fail(res, 413, 'payload_too_large', 'body too large');
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_UNEXPECTED_FILE') {
      return fail(res, 400, 'missing_file', 'an "image" file part is required');
    }
    return fail(res, 400, 'bad_request', err.message);
  }
  // body-parser's other client errors (unsupported charset or encoding...);
  // `expose` keeps AWS SDK errors, which also carry a statusCode, out of here.
  if (err.expose && err.status >= 400 && err.status < 500) {
    return fail(res, err.status, 'bad_request', err.message);
  }
  console.error(err);
  return fail(res, 500, 'internal_error', 'internal error');
});

module.exports = app;
