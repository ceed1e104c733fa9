// Starts Swagger UI on this server's OpenAPI description (relative URL, so
// it works under a path prefix too). No validator badge: that would call
// validator.swagger.io, and the page fetches nothing from elsewhere.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
