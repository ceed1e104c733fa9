// Which Gatehouse APIs this page may talk to: the one file a deployer edits.
//
// Gatehouse serves its own copy of this file with the page (src/web/config.js:
// the page's own origin only), so this one matters only for a static copy of
// web/ hosted somewhere else. There, list the API's base URL (its origin, and
// a path for an API Gateway stage), and allow the copy's origin in the API's
// CORS_ORIGINS:
//
//   apiBases: ['https://abc123.execute-api.eu-west-1.amazonaws.com/dev'],
//
// With several, the page offers a chooser. Nothing in the page's own address
// adds one (a link could name any server, and the page would hand that server
// the user's password and session), and a stored session is only ever sent
// back to the API that issued it. Empty: the page's own origin only.
window.GATEHOUSE_CONFIG = Object.freeze({
  apiBases: [],
});
