/**
 * `/docs`: Swagger UI (npm `swagger-ui-dist`, pinned) rendering `/openapi.json`, served entirely
 * by berth from node_modules: no CDN, no web fonts, no validator badge, so the page works with
 * no network beyond berth itself. Only the files the page needs are served (no directory listing).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Router } from 'express';

const require = createRequire(import.meta.url);
/** The folder of the installed `swagger-ui-dist` package. */
const distDir = dirname(require.resolve('swagger-ui-dist/package.json'));

/** Files served under `/docs/assets/`: name → content type. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/**
 * The page. Every URL is relative (the page is `/docs`), so it also works behind a proxy that
 * mounts berth under a path prefix.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>berth API</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<style>body{margin:0}</style>
</head>
<body>
<div id="swagger-ui"></div>
<noscript><p>This page needs JavaScript. The API description itself is at <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p></noscript>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/init.js"></script>
</body>
</html>
`;

/**
 * Swagger UI's start-up. `validatorUrl: null` turns off the badge that would ask an outside
 * validator about the document; `BaseLayout` has no "explore any URL" bar.
 */
const INIT = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI).href,
  dom_id: '#swagger-ui',
  layout: 'BaseLayout',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  displayRequestDuration: true,
  docExpansion: 'list',
});
`;

/** Routes for `/docs` and its assets (no authentication: the document is public). */
export function docsRoutes(): Router {
  const router = Router({ strict: true });
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  // Relative URLs resolve against the folder: `/docs/` would break them, so send it to `/docs`.
  router.get('/docs/', (_req, res) => {
    res.redirect(301, '../docs');
  });
  router.get('/docs/assets/init.js', (_req, res) => {
    res.type('text/javascript; charset=utf-8').send(INIT);
  });
  router.get('/docs/assets/:name', (req, res, next) => {
    const type = ASSETS[req.params.name];
    if (!type) {
      res.status(404).json({ code: 'not_found', message: `no file ${req.params.name} in the docs viewer; open /docs` });
      return;
    }
    res.type(type).set('Cache-Control', 'public, max-age=3600');
    res.sendFile(join(distDir, req.params.name), (err) => {
      if (err && !res.headersSent) next(err);
    });
  });
  return router;
}
