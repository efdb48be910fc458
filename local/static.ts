import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const NOT_BUILT = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>TeleRead</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>TeleRead 远程诊断</h1>
<p>The API is running, but the web application is not built: run <code>npm run build:web</code>
(<code>npm start</code> does it when <code>web/dist</code> is missing or stale). The API is described at
<a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>`;

const headers = (type: string, cache: string) => ({
  'content-type': type,
  'cache-control': cache,
  'x-content-type-options': 'nosniff',
});

/**
 * Serves the built web app (web/dist): files with their content type, hashed assets cached for good,
 * every other extension-less path answered with index.html (the SPA routes in the browser). A path
 * that leaves the root after decoding and normalising is refused.
 */
export function createStaticSite(root: string): (path: string) => Promise<Response | null> {
  const base = resolve(root);
  const index = join(base, 'index.html');
  return async (path: string) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return null;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return null;
    const file = resolve(base, `.${decoded.startsWith('/') ? '' : '/'}${decoded}`);
    if (file !== base && !file.startsWith(base + sep)) return null;
    if (!existsSync(index)) {
      return decoded === '/' || !extname(decoded) ? new Response(NOT_BUILT, { status: 503, headers: headers('text/html; charset=utf-8', 'no-store') }) : null;
    }
    if (file !== base && existsSync(file) && statSync(file).isFile()) {
      const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const immutable = decoded.startsWith('/assets/');
      return new Response(new Uint8Array(await readFile(file)), {
        headers: headers(type, immutable ? 'public, max-age=31536000, immutable' : 'no-cache'),
      });
    }
    // SPA fallback: routes have no extension; a missing asset is a 404, not the page.
    if (extname(decoded) && extname(decoded) !== '.html') return null;
    return new Response(new Uint8Array(await readFile(index)), { headers: headers('text/html; charset=utf-8', 'no-cache') });
  };
}

export const WEB_DIST = resolve(import.meta.dirname, '../web/dist');
