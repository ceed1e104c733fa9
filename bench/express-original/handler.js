'use strict';
// The Lambda entry point, as the original deploys it (serverless.yml's
// `handler: handler.handler`): serverless-http turns API Gateway events
// (HTTP API payload 2.0, and REST 1.0) into requests for the Express app.
const serverless = require('serverless-http');
const app = require('./app');

module.exports.handler = serverless(app);
