// The page's configuration as Gatehouse serves it, at /config.js in place of
// web/config.js (src/web/CMakeLists.txt): the page talks to the server that
// served it and to nothing else, whatever web/config.js lists for static
// copies. The Content-Security-Policy header on the page (connect-src 'self',
// src/api/web_routes.cpp) holds it to that too.
window.GATEHOUSE_CONFIG = Object.freeze({
  apiBases: [],
});
