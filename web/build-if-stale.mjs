// `npm start` runs this first (prestart): build web/dist when it is missing or older than the sources,
// so `npm install && npm start` serves the UI on a fresh clone.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = import.meta.dirname;
const built = join(web, 'dist', 'index.html');

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(p).map((n) => newest(join(p, n))));
}

const sources = [join(web, 'src'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(web, '..', 'shared', 'contracts')];
const stale = !existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
if (stale || process.argv.includes('--force')) {
  // Always React's production build, whatever NODE_ENV the caller has (vitest sets "test").
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  console.log('Building the web app (web/dist)…');
  await build({ configFile: join(web, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
} else {
  console.log('web/dist is up to date.');
}
