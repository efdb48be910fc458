import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mulberry32 } from '../../shared/synth/random.ts';

/** The repository root (this file is test/support/crash-server.ts). */
export const REPO_ROOT = join(import.meta.dirname, '../..');

/** A free loopback port: listen on 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Resolves when the process has exited (code, signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** The last few KB of stderr, for failure messages. */
  stderr(): string;
}

/** `node --import tsx local/main.ts` on a data directory, as `npm start` runs it, on 127.0.0.1:port. */
export function spawnServer(port: number, dataDir: string, extraEnv: Record<string, string> = {}): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TELEREAD_DATA_DIR: dataDir,
      TELEREAD_LOG: 'silent',
      TELEREAD_SCRYPT_LOG_N: '10',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err = (err + d).slice(-4000);
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, exited, alive: () => !done, stderr: () => err };
}

/** Poll GET /api/health until 200; throws if the process exits or time runs out. */
export async function waitHealthy(s: ServerProcess, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (!s.alive()) throw new Error(`the server exited before it was healthy: ${s.stderr()}`);
    try {
      const r = await fetch(`${s.url}/api/health`);
      await r.arrayBuffer();
      if (r.status === 200) return Date.now() - t0;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`the server was not healthy within ${timeoutMs} ms: ${s.stderr()}`);
    await sleep(25);
  }
}

/** kill -9 and wait for the exit. */
export async function killHard(s: ServerProcess): Promise<void> {
  if (s.alive()) s.child.kill('SIGKILL');
  await s.exited;
}

/** SIGTERM (the server closes its database cleanly), SIGKILL if it has not exited within `graceMs`. */
export async function stopGracefully(s: ServerProcess, graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!s.alive()) return s.exited;
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
  const r = await s.exited;
  clearTimeout(t);
  return r;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const prng = mulberry32;
