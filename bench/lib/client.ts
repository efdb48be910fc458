/**
 * A minimal TeleRead API client for the benchmarks: JSON calls over a keep-alive agent, and PUT
 * uploads whose body is bytes in memory or a file streamed from disk (never held whole).
 */
import { createReadStream } from 'node:fs';
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export const DEMO_PASSWORD = 'teleread-demo';

export interface HttpResult {
  status: number;
  text: string;
  json: any;
  /** performance.timeOrigin-based wall clock (ms) when the response was complete. */
  doneAt: number;
}

/** Wall-clock milliseconds with sub-ms resolution (comparable with server ISO timestamps). */
export const now = () => performance.timeOrigin + performance.now();

export function httpRequest(
  url: string,
  method: string,
  opts: { headers?: Record<string, string>; body?: Uint8Array | string; file?: { path: string; size: number } } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    if (opts.file) headers['content-length'] = opts.file.size;
    const req = http.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const doneAt = now();
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, text, json, doneAt });
      });
    });
    req.on('error', reject);
    if (opts.file) {
      const rs = createReadStream(opts.file.path, { highWaterMark: 1024 * 1024 });
      rs.on('error', (e) => req.destroy(e));
      rs.pipe(req);
    } else {
      req.end(opts.body);
    }
  });
}

export interface Submission {
  submissionId: string;
  caseId: string;
  uploads: { index: number; url: string; method: string; headers: Record<string, string> }[];
}

export class Client {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  static async login(base: string, username: string, password = DEMO_PASSWORD): Promise<Client> {
    const r = await httpRequest(`${base}/api/auth/login`, 'POST', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text.slice(0, 300)}`);
    return new Client(base, r.json.token);
  }

  call(method: string, path: string, body?: unknown): Promise<HttpResult> {
    return httpRequest(`${this.base}${path}`, method, {
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async submit(files: { name: string; size: number }[], seq: number, priority = 'routine'): Promise<Submission> {
    const r = await this.call('POST', '/api/submissions', {
      patient: { id: `P-BENCH-${String(seq).padStart(6, '0')}`, name: 'Bench^Patient', sex: 'F', birthDate: '1970-01-01' },
      consent: { obtained: true },
      priority,
      files,
    });
    if (r.status !== 201) throw new Error(`submission: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json as Submission;
  }

  async upload(u: Submission['uploads'][number], body: { bytes: Uint8Array } | { path: string; size: number }): Promise<HttpResult> {
    const r = await httpRequest(u.url, u.method ?? 'PUT', {
      headers: u.headers,
      ...('bytes' in body ? { body: body.bytes } : { file: body }),
    });
    if (r.status !== 201 && r.status !== 200) throw new Error(`upload ${u.index}: ${r.status} ${r.text.slice(0, 300)}`);
    return r;
  }

  async getCase(caseId: string): Promise<any> {
    const r = await this.call('GET', `/api/cases/${caseId}`);
    if (r.status !== 200) throw new Error(`GET case ${caseId}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  }

  /**
   * Poll until none of `caseIds` is AWAITING_FILES, with one list call per round (a case view per case
   * would also append to the audit log, a commit each, while the last files are still being ingested);
   * returns the cases by id, as the case list shows them (status, timeline, rejection).
   */
  async waitAllSettled(caseIds: string[], pollMs: number, timeoutMs = 120_000): Promise<Map<string, any>> {
    const want = new Set(caseIds);
    const until = Date.now() + timeoutMs;
    const page = async (query: string, each: (c: any) => void) => {
      let cursor: string | null = null;
      do {
        const r = await this.call('GET', `/api/cases?limit=200${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (r.status !== 200) throw new Error(`GET /api/cases: ${r.status} ${r.text.slice(0, 300)}`);
        for (const c of r.json.items) each(c);
        cursor = r.json.nextCursor;
      } while (cursor);
    };
    for (;;) {
      let waiting = 0;
      await page('&status=AWAITING_FILES', (c) => void (want.has(c.caseId) && waiting++));
      if (waiting === 0) break;
      if (Date.now() > until) throw new Error(`${waiting} case(s) still AWAITING_FILES after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    const out = new Map<string, any>();
    await page('', (c) => void (want.has(c.caseId) && out.set(c.caseId, c)));
    const missing = caseIds.filter((id) => !out.has(id));
    if (missing.length) throw new Error(`cases not in the list: ${missing.slice(0, 3).join(', ')}`);
    return out;
  }

  /** Poll until the case leaves AWAITING_FILES; returns the case and when the client saw it. */
  async waitSettled(caseId: string, pollMs: number, timeoutMs = 120_000): Promise<{ c: any; seenAt: number; polls: number }> {
    const until = Date.now() + timeoutMs;
    let polls = 0;
    for (;;) {
      const c = await this.getCase(caseId);
      polls++;
      if (c.status !== 'AWAITING_FILES') return { c, seenAt: now(), polls };
      if (Date.now() > until) throw new Error(`case ${caseId} still AWAITING_FILES after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

export async function closeAgent(): Promise<void> {
  agent.destroy();
}
