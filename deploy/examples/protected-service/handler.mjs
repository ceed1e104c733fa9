// API Gateway's JWT authorizer has verified the Gatehouse access token before
// this runs; its claims (sub, userId, email, role, sid, ...) arrive in the event.
export const claims = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ claims: event.requestContext.authorizer.jwt.claims }),
});
