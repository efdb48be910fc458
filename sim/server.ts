/**
 * The real TeleRead server as a child process for the simulation: a temp data directory, a free
 * loopback port, the scaled clock. Stopped by its own PID; the temp directory removed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SERVER_NODE_FLAGS } from '../local/node-flags.ts';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..');

export interface ChildServer {
  url: string;
  pid: number;
  /** Real time (ms since epoch) at which the child was spawned. */
  spawnedAt: number;
  /** The last lines the child wrote (for diagnosing a failed start). */
  output(): string;
  stop(): Promise<void>;
}

/** A port the OS says is free on 127.0.0.1 (closed again before the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(opts: { dataDir: string; env: Record<string, string>; readyTimeoutMs?: number }): Promise<ChildServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ...SERVER_NODE_FLAGS, 'local/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env, PORT: String(port), HOST: '127.0.0.1', TELEREAD_DATA_DIR: opts.dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n')) if (l.trim()) lines.push(l);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));
  const stop = async () => {
    if (exited !== undefined || child.pid === undefined) return;
    // Our own child, by its own PID: SIGTERM (the server closes its database), SIGKILL if it lingers.
    process.kill(child.pid, 'SIGTERM');
    const t = setTimeout(() => exited === undefined && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5000);
    await exit;
    clearTimeout(t);
  };
  const server: ChildServer = { url, pid: child.pid ?? -1, spawnedAt, output: () => lines.slice(-30).join('\n'), stop };
  const until = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`the server exited (code ${exited}) before it was ready:\n${server.output()}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      await stop();
      throw new Error(`the server did not answer /api/health within ${opts.readyTimeoutMs ?? 60_000} ms:\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
