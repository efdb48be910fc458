import { serve, type ServerType } from '@hono/node-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadLocalConfig } from '../../shared/contracts/config.ts';
import type { WorkflowSettings } from '../../shared/application/deps.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import { composeLocal, type LocalSystem } from '../../local/compose.ts';
import { limitSlowRequests, SERVER_OPTIONS } from '../../local/http-server.ts';

export const SAMPLES = join(import.meta.dirname, '../../../shared/samples');
export const DEMO_PASSWORD = 'teleread-demo';
export const DEMO_PIN = '246810';

export interface TestServer {
  url: string;
  sys: LocalSystem;
  dataDir: string;
  close(): Promise<void>;
}

/** A real local TeleRead (SQLite, files, workers, HTTP on a loopback port) in a fresh temp data directory. */
export async function startTestServer(
  opts: {
    clock?: Clock;
    log?: Logger;
    settings?: Partial<WorkflowSettings>;
    env?: Record<string, string>;
    dataDir?: string;
    /** A fixed loopback port (e.g. to restart on the port a client already knows); default: a free one. */
    port?: number;
    /** How long an upload's body may stay silent (default: the product's, local/http-server.ts). */
    idleBodyMs?: number;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'teleread-test-'));
  const cfg = loadLocalConfig({ TELEREAD_DATA_DIR: dataDir, TELEREAD_LOG: 'silent', TELEREAD_SCRYPT_LOG_N: '12', TELEREAD_PARSE_WARMUP: '0', ...opts.env });
  let server: ServerType | null = null;
  const port = opts.port ?? await new Promise<number>((resolve) => {
    // Port first, then compose with the real origin so upload URLs are absolute.
    const probe = serve({ fetch: () => new Response(''), port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      probe.close(() => resolve(info.port));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const sys = await composeLocal(cfg, { clock: opts.clock, log: opts.log, settings: opts.settings, publicUrl: url });
  sys.start();
  await new Promise<void>((resolve) => {
    server = serve({ fetch: sys.app.fetch, port, hostname: '127.0.0.1', serverOptions: SERVER_OPTIONS }, () => resolve());
    limitSlowRequests(server as unknown as Parameters<typeof limitSlowRequests>[0], { idleBodyMs: opts.idleBodyMs });
  });
  return {
    url,
    sys,
    dataDir,
    async close() {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await sys.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export class Api {
  constructor(
    readonly base: string,
    readonly token?: string,
  ) {}

  static async login(base: string, username: string, password = DEMO_PASSWORD): Promise<Api> {
    const r = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
    const j = (await r.json()) as { token: string };
    return new Api(base, j.token);
  }

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: r.status, json, text };
  }

  /** Declare a submission for these files and upload each to its target. */
  async submit(files: { name: string; bytes: Uint8Array }[], extra: Partial<{ priority: string; patient: object }> = {}) {
    const r = await this.call('POST', '/api/submissions', {
      patient: { id: 'P-TEST-0001', name: 'Test^Patient', sex: 'F', birthDate: '1970-01-01' },
      consent: { obtained: true },
      priority: 'routine',
      files: files.map((f) => ({ name: f.name, size: f.bytes.length })),
      ...extra,
    });
    if (r.status !== 201) throw new Error(`submit: ${r.status} ${r.text}`);
    const sub = r.json as { caseId: string; submissionId: string; uploads: { index: number; url: string; headers: Record<string, string> }[] };
    for (const u of sub.uploads) {
      const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: files[u.index]!.bytes as Uint8Array<ArrayBuffer> });
      if (put.status !== 201) throw new Error(`upload ${u.index}: ${put.status} ${await put.text()}`);
    }
    return sub;
  }

  /** Poll the case until `done` holds (or time runs out). */
  async waitCase(caseId: string, done: (c: any) => boolean, timeoutMs = 20_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.call('GET', `/api/cases/${caseId}`);
      if (r.status === 200 && done(r.json)) return r.json;
      if (r.status === 200 && r.json.status === 'REJECTED') throw new Error(`case ${caseId} was rejected: ${JSON.stringify(r.json.rejection)}`);
      if (Date.now() > until) throw new Error(`case ${caseId} did not get there: ${r.status} ${JSON.stringify(r.json?.status ?? r.json)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}
