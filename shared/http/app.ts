import { Hono, type Context } from 'hono';
import {
  AcknowledgeSchema,
  CaseViewSchema,
  CreateSubmissionResponseSchema,
  CreateSubmissionSchema,
  LeaseRequestSchema,
  ListCasesQuerySchema,
  NextReadSchema,
} from '../contracts/api.ts';
import { AuthConfigSchema, LoginRequestSchema, LoginResponseSchema, SessionUserSchema, type AuthConfig } from '../contracts/auth.ts';
import { acknowledge, consortiumView, getCase, getInstance, getWaveform, listCases, toView } from '../application/cases.ts';
import { WaveformResponseSchema, type WaveformResponse } from '../contracts/ecg.ts';
import { login, sessionUser } from '../application/auth.ts';
import type { Deps } from '../application/deps.ts';
import { claimNextRead, heartbeat, release } from '../application/reads.ts';
import type { Canonicalize } from '../application/reports.ts';
import { createSubmission, renewUploadTargets } from '../application/submissions.ts';
import { AppError } from '../domain/errors.ts';
import type { AttemptLimiter } from '../ports/attempt-limiter.ts';
import type { PasswordHasher, TokenService } from '../ports/auth.ts';
import { errorResponse } from './errors.ts';
import { caseIdParam, parseBody, toWebStream, type Env, type RouteKit } from './kit.ts';
import { registerDicomwebRoutes } from './routes/dicomweb.ts';
import { registerMetricsRoutes } from './routes/metrics.ts';
import { registerReportRoutes } from './routes/reports.ts';
import { registerStowRoutes } from './routes/stow.ts';
import { buildOpenApi, type RouteDoc } from './openapi.ts';

/** Adapter-specific pieces the one HTTP app needs besides the use-case deps. */
export interface HttpExtras {
  tokens: TokenService;
  canonicalize: Canonicalize;
  /**
   * Password login exists only where TeleRead keeps its own users (one machine); on AWS, Cognito logs in.
   * `attempts` counts wrong passwords per username (SIGN_IN_POLICY).
   */
  passwordLogin?: { hasher: PasswordHasher; attempts: AttemptLimiter };
  /**
   * Sign-in through an OpenID Connect issuer (AWS: Cognito's hosted sign-in; one machine: the
   * consortium's identity provider, when configured): what `GET /api/auth/config` answers.
   */
  oidcConfig?: () => Promise<AuthConfig>;
  /** Receives bytes for a signed local upload URL (one machine); on AWS, clients PUT to S3 directly. */
  receiveUpload?: (token: string, body: AsyncIterable<Uint8Array>, contentLength: number | null) => Promise<{ size: number }>;
  /** A short-lived URL to fetch a stored object directly (AWS: presigned S3 GET); without it, bytes stream through the app. */
  objectUrl?: (key: string) => Promise<string>;
  /** Serves the web UI (or the placeholder page) for non-API paths. */
  staticPage?: (path: string) => Promise<Response | null>;
}


/** The TeleRead HTTP API v1: same app on one machine (node-server) and on Lambda (hono/aws-lambda). */
export function createApp(deps: Deps, x: HttpExtras) {
  const app = new Hono<Env>();
  const docs: RouteDoc[] = [];
  const doc = (d: RouteDoc) => docs.push(d);

  app.onError((e, c) => errorResponse(c, e, deps.log));
  app.notFound((c) => c.json({ error: { code: 'ROUTE.NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}.` } }, 404));

  const body = parseBody;

  const auth = async (c: Context<Env>, next: () => Promise<void>) => {
    const h = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) throw new AppError('AUTH.REQUIRED', 'unauthenticated', 'Sign in first: send "Authorization: Bearer <token>".');
    c.set('principal', await x.tokens.verify(m[1]!.trim()));
    await next();
  };
  const me = (c: Context<Env>) => c.get('principal');
  const caseId = caseIdParam;
  const kit: RouteKit = { app, deps, x, doc, body, me, caseId };

  app.get('/api/health', (c) => c.json({ ok: true }));
  doc({ method: 'get', path: '/api/health', summary: 'Liveness', roles: 'anyone' });

  if (x.passwordLogin) {
    const { hasher, attempts } = x.passwordLogin;
    app.post('/api/auth/login', async (c) => {
      const b = await body(c, LoginRequestSchema);
      return c.json(await login(deps, hasher, x.tokens, attempts, b.username, b.password));
    });
    doc({
      method: 'post',
      path: '/api/auth/login',
      summary: 'Sign in; returns a bearer token',
      roles: 'anyone',
      body: LoginRequestSchema,
      response: LoginResponseSchema,
      responses: { '401': 'AUTH.BAD_CREDENTIALS', '429': 'AUTH.LOCKED: 10 wrong passwords in a row lock the username for 5 minutes (Retry-After)' },
    });
  }

  app.get('/api/auth/config', async (c) => {
    if (x.oidcConfig) return c.json(await x.oidcConfig());
    if (x.passwordLogin) return c.json({ mode: 'password' } satisfies AuthConfig);
    throw new AppError('AUTH.NOT_CONFIGURED', 'not_found', 'This TeleRead has no way to sign in configured; tell its administrator.');
  });
  doc({
    method: 'get',
    path: '/api/auth/config',
    summary: 'How to sign in: a password (POST /api/auth/login), or an OpenID Connect issuer (authorization code + PKCE; the ID token is the bearer token)',
    roles: 'anyone',
    response: AuthConfigSchema,
    responses: { '503': 'AUTH.ISSUER_UNREACHABLE: the identity provider cannot be reached' },
  });

  if (x.receiveUpload) {
    const receive = x.receiveUpload;
    app.put('/api/uploads/:token', async (c) => {
      // An empty body is stored as an empty file: ingest then refuses it with FILE.EMPTY, so the
      // technician sees the reason on the case instead of a bare transport error.
      // Under @hono/node-server the Node request is read directly: a Web stream in between costs a
      // promise per chunk on the event loop.
      const incoming = (c.env as { incoming?: AsyncIterable<Uint8Array> } | undefined)?.incoming;
      const raw = incoming ?? ((c.req.raw.body ?? (async function* () {})()) as AsyncIterable<Uint8Array>);
      const len = c.req.header('content-length');
      const r = await receive(c.req.param('token'), raw, len ? Number(len) : null);
      return c.json({ size: r.size }, 201);
    });
    doc({ method: 'put', path: '/api/uploads/{token}', summary: 'Upload the bytes of one declared file (signed URL)', roles: 'the holder of the URL', responses: { '201': 'Stored', '410': 'URL expired', '413': 'Larger than declared' } });
  }

  app.get('/api/keys', async (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(await deps.signer.jwks());
  });
  doc({ method: 'get', path: '/api/keys', summary: 'JWKS of signers’ public keys (old keys stay published)', roles: 'anyone' });

  app.get('/api/openapi.json', (c) => c.json(buildOpenApi(docs)));
  doc({ method: 'get', path: '/api/openapi.json', summary: 'This description', roles: 'anyone' });

  // Everything below needs a signed-in caller.
  app.use('/api/submissions', auth);
  app.use('/api/submissions/*', auth);
  app.use('/api/cases', auth);
  app.use('/api/cases/*', auth);
  app.use('/api/reads/*', auth);
  app.use('/api/notifications', auth);
  app.use('/api/me', auth);
  app.use('/api/auth/session', auth);
  app.use('/api/metrics/*', auth);
  // DICOMweb (PS3.18) answers the same bearer tokens and scoping as /api.
  app.use('/dicomweb', auth);
  app.use('/dicomweb/*', auth);

  app.get('/api/me', (c) => c.json(me(c)));
  app.get('/api/auth/session', async (c) => c.json(await sessionUser(deps, me(c))));
  doc({ method: 'get', path: '/api/auth/session', summary: 'The signed-in user as the web UI shows it (after an OpenID Connect sign-in)', roles: 'all', response: SessionUserSchema });

  app.use('/api/consortium', auth);
  app.get('/api/consortium', (c) => c.json(consortiumView(deps, me(c))));
  doc({ method: 'get', path: '/api/consortium', summary: 'Clinics, pools and routing; users (no secrets) for admins', roles: 'all' });
  doc({ method: 'get', path: '/api/me', summary: 'The signed-in caller', roles: 'all' });

  app.post('/api/submissions', async (c) => {
    const b = await body(c, CreateSubmissionSchema);
    return c.json(await createSubmission(deps, me(c), b), 201);
  });
  doc({ method: 'post', path: '/api/submissions', summary: 'Declare a study and get one upload target per file', roles: 'technician', body: CreateSubmissionSchema, response: CreateSubmissionResponseSchema });

  app.post('/api/submissions/:submissionId/uploads', async (c) => c.json(await renewUploadTargets(deps, me(c), c.req.param('submissionId'))));
  doc({ method: 'post', path: '/api/submissions/{submissionId}/uploads', summary: 'Fresh upload targets for the files not yet received', roles: 'technician of the clinic', response: CreateSubmissionResponseSchema });

  app.get('/api/cases', async (c) => {
    const q = ListCasesQuerySchema.parse(c.req.query());
    return c.json(await listCases(deps, me(c), q));
  });
  doc({ method: 'get', path: '/api/cases', summary: 'Cases visible to the caller', roles: 'all, scoped', query: ListCasesQuerySchema });

  app.get('/api/cases/:caseId', async (c) => c.json(await getCase(deps, me(c), caseId(c))));
  doc({ method: 'get', path: '/api/cases/{caseId}', summary: 'One case: status, timeline, study, ECG advisory, rejection, report link', roles: 'all, scoped', response: CaseViewSchema });

  app.get('/api/cases/:caseId/instances/:n', async (c) => {
    const n = Number(c.req.param('n'));
    if (!Number.isInteger(n) || n < 0) throw new AppError('INSTANCE.NOT_FOUND', 'not_found', 'No such file number.');
    const inst = await getInstance(deps, me(c), caseId(c), n);
    if (x.objectUrl) {
      // A short-lived direct link (AWS: presigned S3 GET; Lambda responses are capped at 6 MB).
      c.header('cache-control', 'private, no-store');
      return c.redirect(await x.objectUrl(inst.key), 302);
    }
    return new Response(toWebStream(deps.blobs.stream(inst.key)), {
      headers: {
        'content-type': 'application/dicom',
        'content-length': String(inst.size),
        'cache-control': 'private, no-store',
        etag: `"${inst.sha256}"`,
      },
    });
  });
  doc({ method: 'get', path: '/api/cases/{caseId}/instances/{n}', summary: 'The stored DICOM bytes of accepted file n', roles: 'reader of the pool, owning clinic, admin' });

  app.get('/api/cases/:caseId/instances/:n/waveform', async (c) => {
    const n = Number(c.req.param('n'));
    if (!Number.isInteger(n) || n < 0) throw new AppError('INSTANCE.NOT_FOUND', 'not_found', 'No such file number.');
    const w = await getWaveform(deps, me(c), caseId(c), n);
    const body: WaveformResponse = {
      source: w.source,
      // Microvolt precision is all an ECG carries; rounding keeps the JSON small.
      groups: w.groups.map((g) => ({ label: g.label, samplingFrequency: g.samplingFrequency, leads: g.leads.map((l) => ({ name: l.name, mv: Array.from(l.mv, (v) => Math.round(v * 1000) / 1000) })) })),
      measurements: w.measurements,
      flags: w.flags,
      deviceMeasurements: w.deviceMeasurements,
      advisory: true,
    };
    c.header('cache-control', 'private, max-age=300');
    return c.json(body);
  });
  doc({ method: 'get', path: '/api/cases/{caseId}/instances/{n}/waveform', summary: 'Decoded ECG leads in mV per group (advisory measurements)', roles: 'reader of the pool, owning clinic, admin', response: WaveformResponseSchema });

  app.post('/api/reads/next', async (c) => {
    const b = await body(c, NextReadSchema);
    const r = await claimNextRead(deps, me(c), b.pools);
    if (!r) return c.body(null, 204);
    // The claim is audited already; the answer is built from the claimed case without another read.
    const view = await toView(deps, r.case, true);
    return c.json({ case: view, lease: { id: r.lease.id, expiresAt: r.lease.expiresAt } });
  });
  doc({ method: 'post', path: '/api/reads/next', summary: 'Claim the next case (STAT first, then oldest)', roles: 'reader', body: NextReadSchema, responses: { '204': 'Nothing waits', '429': 'SIGN.PIN_LOCKED: your signing is locked after wrong PINs; no case until it ends (Retry-After)' } });

  app.post('/api/reads/:caseId/heartbeat', async (c) => {
    const b = await body(c, LeaseRequestSchema);
    const l = await heartbeat(deps, me(c), caseId(c), b.leaseId);
    return c.json({ lease: { id: l.id, expiresAt: l.expiresAt } });
  });
  doc({
    method: 'post',
    path: '/api/reads/{caseId}/heartbeat',
    summary: 'Extend the reading lease (optional {leaseId}: only that lease)',
    roles: 'lease holder',
    body: LeaseRequestSchema,
    responses: { '429': 'SIGN.PIN_LOCKED: your signing is locked after wrong PINs; the lease is not extended (give the case back)' },
  });

  app.post('/api/reads/:caseId/release', async (c) => {
    const b = await body(c, LeaseRequestSchema);
    await release(deps, me(c), caseId(c), b.leaseId);
    return c.json({ released: true });
  });
  doc({ method: 'post', path: '/api/reads/{caseId}/release', summary: 'Give the case back to the queue (optional {leaseId}: only that lease)', roles: 'lease holder', body: LeaseRequestSchema });

  registerReportRoutes(kit);
  registerMetricsRoutes(kit);
  registerStowRoutes(kit);
  registerDicomwebRoutes(kit);

  app.post('/api/cases/:caseId/acknowledge', async (c) => {
    const b = await body(c, AcknowledgeSchema);
    return c.json(await acknowledge(deps, me(c), caseId(c), b));
  });
  doc({ method: 'post', path: '/api/cases/{caseId}/acknowledge', summary: 'Record receipt (with read-back for critical results)', roles: 'owning clinic', body: AcknowledgeSchema });

  app.get('/api/notifications', async (c) => {
    const p = me(c);
    const to = p.role === 'technician' ? { clinicId: p.clinicId! } : { userId: p.userId };
    return c.json({ items: await deps.notifier.list(to, 50) });
  });
  doc({ method: 'get', path: '/api/notifications', summary: 'In-app notifications of the caller (or their clinic)', roles: 'all' });

  app.all('/api/*', (c) => c.json({ error: { code: 'ROUTE.NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}.` } }, 404));
  app.all('/dicomweb/*', (c) => c.json({ error: { code: 'ROUTE.NOT_FOUND', message: `No DICOMweb resource ${c.req.method} ${c.req.path}.` } }, 404));
  if (x.staticPage) {
    const page = x.staticPage;
    app.get('*', async (c) => (await page(c.req.path)) ?? c.notFound());
  }
  return app;
}
