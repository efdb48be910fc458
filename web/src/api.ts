import type { CaseView, CreateSubmission } from '../../shared/contracts/api.ts';
import type { WaveformResponse } from '../../shared/contracts/ecg.ts';

export type { CaseView, WaveformResponse };

export interface User {
  id: string;
  role: 'technician' | 'reader' | 'admin';
  displayName: string;
  clinicId?: string;
  pools?: string[];
}

export interface ReportDraftBody {
  findings: string;
  impression: string;
  critical: boolean;
  fields?: Record<string, string | number | boolean | null>;
  language?: 'zh-CN' | 'en';
}

/** GET /api/consortium: clinics, pools and routing for all; users (no secrets) for administrators. */
export interface Consortium {
  name: string;
  county: { id: string; name: string };
  clinics: { id: string; name: string }[];
  pools: { id: string; name: string }[];
  routing: unknown;
  users?: { id: string; username: string; displayName: string; role: User['role']; clinicId?: string; pools?: string[]; licenceNumber?: string }[];
}

export interface Session {
  token: string;
  user: User;
  /** Signed in through an identity provider: how to renew the ID token, and when (this computer's clock, ms). */
  renewal?: { refreshToken: string; at: number; sub: string; until: number };
}

export interface UploadTarget {
  index: number;
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
  maxBytes: number;
}

export interface SignedReport {
  report: {
    caseId: string;
    version: number;
    findings: string;
    impression: string;
    critical: boolean;
    signedAt: string;
    signer?: { id?: string; name?: string; licenceNumber?: string; institution?: string };
    amendment?: { kind: string; reason: string };
    supersedes?: number | null;
    fields?: Record<string, unknown>;
    [k: string]: unknown;
  };
  jws: string;
  history?: {
    version: number;
    signedAt: string;
    critical: boolean;
    amendment: { kind: string; reason: string } | null;
    acknowledged: { by?: string; at?: string; receivedBy?: string; readBack?: string } | null;
  }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details` (e.g. attemptsLeft, lockedUntil), when the server gave any. */
    readonly details: Record<string, unknown> = {},
    /** When the answer arrived (this computer's clock): a `retryAfterSeconds` counts from here. */
    readonly receivedAt: number = Date.now(),
  ) {
    super(message);
  }
}

const KEY = 'teleread.session';

export function loadSession(): Session | null {
  try {
    const s = sessionStorage.getItem(KEY);
    return s ? (JSON.parse(s) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

/** Renews the session's token (identity-provider sessions); true when a new token is stored. */
let renewer: (() => Promise<boolean>) | null = null;
export function setRenewer(f: (() => Promise<boolean>) | null): void {
  renewer = f;
}

function token(): string | undefined {
  return loadSession()?.token;
}

export async function call<T>(method: string, path: string, body?: unknown, opts: { keepalive?: boolean; bearer?: string } = {}): Promise<T> {
  const send = (t: string | undefined) =>
    fetch(path, {
      method,
      headers: {
        ...(t ? { authorization: `Bearer ${t}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive: opts.keepalive,
    });
  const sentWith = opts.bearer ?? token();
  let r = await send(sentWith);
  // A token that expired while the computer slept (or the tab was closed) is renewed once, and the
  // call made again, before anyone is sent to the sign-in page. Only a refusal of the token itself,
  // which comes before any route runs (the call did nothing yet): TeleRead's AUTH.TOKEN_EXPIRED /
  // AUTH.INVALID_TOKEN, or API Gateway's JWT authorizer on AWS ({"message":"Unauthorized"}, no code).
  const tokenRefused = async () => {
    const j = (await r.clone().json().catch(() => null)) as { error?: { code?: string }; message?: string } | null;
    const code = j?.error?.code;
    return code === 'AUTH.TOKEN_EXPIRED' || code === 'AUTH.INVALID_TOKEN' || (j?.error === undefined && j?.message === 'Unauthorized');
  };
  if (r.status === 401 && !opts.bearer && !path.startsWith('/api/auth/') && renewer && (await tokenRefused())) {
    let renewed: boolean;
    try {
      renewed = token() !== sentWith || (await renewer());
    } catch {
      // The identity provider cannot be reached just now: the session may still be renewed later, so
      // the page stays (and keeps what was typed) instead of going to a sign-in that cannot load either.
      throw new ApiError(503, 'AUTH.ISSUER_UNREACHABLE', 'The sign-in service cannot be reached just now to renew your session; try again in a minute.');
    }
    if (renewed) r = await send(token());
  }
  if (r.status === 204) return null as T;
  const text = await r.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!r.ok) {
    // A refused sign-in (wrong password, a token the server does not take) is the sign-in page's to show.
    if (r.status === 401 && !path.startsWith('/api/auth/')) onUnauthorized();
    throw errorOf(r, json);
  }
  return json as T;
}

/** The API's `{"error":{code,message,details}}` of a failed answer (its parsed body), or the bare status. */
export function errorOf(r: Response, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
  return new ApiError(r.status, e?.code ?? `HTTP.${r.status}`, e?.message ?? `${r.status} ${r.statusText}`, e?.details ?? {});
}

export async function fetchBytes(path: string, onProgress?: (loaded: number, total: number | null) => void): Promise<ArrayBuffer> {
  const t = token();
  const r = await fetch(path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  if (!r.ok) throw errorOf(r, await r.json().catch(() => null));
  if (!onProgress || !r.body) return r.arrayBuffer();
  // Read as a stream to report progress (large cine loops take a while on a county network).
  const total = Number(r.headers.get('content-length')) || null;
  const reader = r.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out.buffer;
}

export const api = {
  login: (username: string, password: string) => call<Session>('POST', '/api/auth/login', { username, password }),
  listCases: (q: Record<string, string | number | undefined> = {}) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
    return call<{ items: CaseView[]; nextCursor: string | null }>('GET', `/api/cases?${p}`);
  },
  /** Every page of a listing (up to `max` cases). */
  async listAll(q: Record<string, string | number | undefined> = {}, max = 1000): Promise<CaseView[]> {
    const out: CaseView[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.listCases({ ...q, limit: 200, cursor });
      out.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && out.length < max);
    return out;
  },
  getCase: (id: string) => call<CaseView>('GET', `/api/cases/${encodeURIComponent(id)}`),
  submit: (b: CreateSubmission) =>
    call<{ submissionId: string; caseId: string; uploads: UploadTarget[] }>('POST', '/api/submissions', b),
  next: (pools?: string[]) => call<{ case: CaseView; lease: { id: string; expiresAt: string } } | null>('POST', '/api/reads/next', pools ? { pools } : {}),
  /** Extends the lease `leaseId` (LEASE.LOST once it has run out, even if this reader took the case again since). */
  heartbeat: (id: string, leaseId: string) => call<{ lease: { id: string; expiresAt: string } }>('POST', `/api/reads/${encodeURIComponent(id)}/heartbeat`, { leaseId }),
  /** Gives back the lease `leaseId` only: a tab left open on an old lease cannot release the one held now. */
  release: (id: string, leaseId: string, keepalive = false) => call<unknown>('POST', `/api/reads/${encodeURIComponent(id)}/release`, { leaseId }, { keepalive }),
  /** Saves the draft under the lease `leaseId` only (LEASE.LOST once it ran out). */
  saveDraft: (id: string, leaseId: string, b: { findings: string; impression: string; critical: boolean; fields?: Record<string, string | number | boolean | null>; language: 'zh-CN' | 'en' }) =>
    call<unknown>('PUT', `/api/cases/${encodeURIComponent(id)}/report`, { ...b, leaseId }),
  /** Signs the saved draft under the lease `leaseId` only. */
  sign: (id: string, leaseId: string, pin: string) =>
    call<{ version: number; warnings: { code: string; message: string }[] }>('POST', `/api/cases/${encodeURIComponent(id)}/report/sign`, { pin, leaseId }),
  report: (id: string) => call<SignedReport>('GET', `/api/cases/${encodeURIComponent(id)}/report`),
  amend: (id: string, b: { pin: string; kind: 'addendum' | 'correction'; reason: string; findings: string; impression: string; critical: boolean; language: 'zh-CN' | 'en' }) =>
    call<{ version: number }>('POST', `/api/cases/${encodeURIComponent(id)}/report/amend`, b),
  acknowledgeVersion: (id: string, v: number, b: { receivedBy?: string; readBack?: string }) =>
    call<unknown>('POST', `/api/cases/${encodeURIComponent(id)}/report/versions/${v}/acknowledge`, b),
  acknowledge: (id: string, b: { receivedBy?: string; readBack?: string }) => call<CaseView>('POST', `/api/cases/${encodeURIComponent(id)}/acknowledge`, b),
  notifications: () => call<{ items: { kind: string; caseId?: string; at?: string; [k: string]: unknown }[] }>('GET', '/api/notifications'),
  /** The reader's own saved draft of a case (404 REPORT.NO_DRAFT when there is none). */
  draft: (id: string) => call<{ body: ReportDraftBody; updatedAt: string }>('GET', `/api/cases/${encodeURIComponent(id)}/report/draft`),
  consortium: () => call<Consortium>('GET', '/api/consortium'),
  waveform: (id: string, n: number) => call<WaveformResponse>('GET', `/api/cases/${encodeURIComponent(id)}/instances/${n}/waveform`),
};

/** PUT one file to its upload target with progress (XHR: fetch has no upload progress). */
export function uploadFile(
  target: UploadTarget,
  file: Blob,
  onProgress: (loaded: number, total: number) => void,
): { done: Promise<void>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open(target.method, target.url);
    for (const [k, v] of Object.entries(target.headers)) {
      if (k.toLowerCase() !== 'content-length' && k.toLowerCase() !== 'host') xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let msg = `${xhr.status}`;
      let code = `HTTP.${xhr.status}`;
      if (xhr.status >= 300) {
        try {
          const e = (JSON.parse(xhr.responseText) as { error?: { code: string; message: string } }).error;
          if (e) {
            msg = e.message;
            code = e.code;
          }
        } catch {
          /* not JSON */
        }
      }
      // 409 UPLOAD.ALREADY_RECEIVED: a retry of a file that did arrive; nothing left to do. Any other
      // 409 (a conflict with the stored object) is not "done".
      if ((xhr.status >= 200 && xhr.status < 300) || code === 'UPLOAD.ALREADY_RECEIVED') {
        onProgress(file.size, file.size);
        resolve();
      } else {
        reject(new ApiError(xhr.status, code, msg));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'network error'));
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'aborted'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
