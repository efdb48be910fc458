import { it, expect } from 'vitest';
import { startTestServer } from '../support/local-server.ts';
import { ensureWebBuilt, launch, login, shot } from './support.ts';
it('smoke', async () => {
  await ensureWebBuilt();
  const srv = await startTestServer();
  const b = await launch('zh-CN');
  try {
    const p = await b.ctx.newPage();
    p.on('console', (m) => console.log('console', m.type(), m.text()));
    p.on('pageerror', (e) => console.log('pageerror', e));
    await login(p, srv.url, 'tech-a');
    await shot(p, 'smoke-tech');
    console.log(await p.locator('main').innerText());
  } finally {
    await b.close();
    await srv.close();
  }
}, 120000);
