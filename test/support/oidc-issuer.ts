/**
 * A real OpenID Provider (panva's certified `oidc-provider`) on a loopback port, for tests of
 * TeleRead's OpenID Connect sign-in: authorization code + PKCE (S256) for one public client, the
 * accounts' claims carried in the ID token itself, RP-initiated logout, and CORS on the token
 * endpoint for the web UI's origin.
 *
 * Sign-in page a browser test fills (GET `/interaction/<uid>`, reached by redirect from `/auth`):
 *   - text input `name="login"` (label "Username"): a known `TestAccount.username`
 *   - password input `name="password"` (label "Password"): anything, even empty
 *   - `<button type="submit">Sign in</button>`, posting to `/interaction/<uid>`
 * An unknown username re-renders the form (HTTP 401) with a `role="alert"` message.
 * There is no consent step: the grant for the client is made during authorization.
 * Once signed in, the provider keeps a session cookie: a second authorization from the same
 * browser goes straight back with a code, unless it asks `prompt=login` or the session was ended
 * at `end_session_endpoint`.
 *
 * RP-initiated logout: `end_session_endpoint` needs `id_token_hint` or `client_id` for
 * `post_logout_redirect_uri` to be honoured; its confirmation page submits itself, so the browser
 * lands on the post-logout URI (with `state`) without a click. Unknown parameters such as
 * Cognito's `logout_uri` are ignored.
 */
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

export interface TestAccount {
  username: string;
  /** Claims put in the ID token, e.g. `{ groups: ['technician'], clinicId: 'clinic-a', pools: 'p1,p2', preferred_username: 'tech-a' }`. */
  claims: Record<string, unknown>;
}

export interface TestOidcIssuer {
  /** `http://127.0.0.1:<port>`, no trailing slash: the discovery document's `issuer` and the ID token's `iss`. */
  issuer: string;
  stop(): Promise<void>;
}

export interface OidcIssuerOptions {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  accounts: TestAccount[];
  idTokenTtlSeconds?: number;
}

// oidc-provider ships no typings (DefinitelyTyped has them, not installed): only what is used here.
interface OidcClient {
  clientId: string;
}
interface OidcGrant {
  accountId: string;
  clientId: string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface OidcKoaContext {
  oidc: {
    client: OidcClient;
    account?: { accountId: string };
    session: { grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
    requestParamOIDCScopes: Set<string>;
    requestParamClaims: Set<string>;
    provider: ProviderInstance;
  };
  type: string;
  body: unknown;
}
interface InteractionDetails {
  uid: string;
  prompt: { name: string };
  params: Record<string, unknown>;
}
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): OidcGrant; find(id: string): Promise<OidcGrant | undefined> };
}
type ProviderConstructor = new (issuer: string, configuration: object) => ProviderInstance;

let loaded: Promise<ProviderConstructor> | undefined;

/** Loaded on first use: test files that never start an issuer do not pay for the import. */
function loadProvider(): Promise<ProviderConstructor> {
  loaded ??= (async () => {
    // @ts-expect-error -- the package has no type declarations; ProviderConstructor above describes the part used.
    const mod = await import('oidc-provider');
    // v8 exports the class as the default export (v9 also as a named one).
    return ((mod as { Provider?: ProviderConstructor }).Provider ?? (mod as { default: ProviderConstructor }).default);
  })();
  return loaded;
}

interface Row {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * The library's own in-memory adapter announces itself on console.warn when used by default;
 * this one keeps each issuer's rows apart (two issuers in one test file do not share sessions).
 */
function memoryAdapter(rows: Map<string, Row>) {
  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    const live = (k: string) => {
      const row = rows.get(k);
      if (row && row.expiresAt <= Date.now()) {
        rows.delete(k);
        return undefined;
      }
      return row;
    };
    const ownRows = () => [...rows.keys()].filter((k) => k.startsWith(`${model}:`)).map((k) => [k, live(k)] as const);
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        rows.set(key(id), { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
      },
      async find(id: string) {
        return live(key(id))?.payload;
      },
      async findByUid(uid: string) {
        return ownRows().find(([, row]) => row?.payload['uid'] === uid)?.[1]?.payload;
      },
      async findByUserCode(userCode: string) {
        return ownRows().find(([, row]) => row?.payload['userCode'] === userCode)?.[1]?.payload;
      },
      async consume(id: string) {
        const row = live(key(id));
        if (row) row.payload['consumed'] = Math.floor(Date.now() / 1000);
      },
      async destroy(id: string) {
        rows.delete(key(id));
      },
      async revokeByGrantId(grantId: string) {
        for (const [k, row] of ownRows()) if (row?.payload['grantId'] === grantId) rows.delete(k);
      },
    };
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}

function loginPage(uid: string, login: string, error?: string): string {
  return page(
    'Sign in: test issuer',
    `<h1>Sign in</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(uid)}" autocomplete="off">
<label>Username <input type="text" name="login" autocomplete="username" required autofocus value="${escapeHtml(login)}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk);
  }
  // Decoded once at the end: a UTF-8 character may straddle two chunks.
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Claims the provider sets itself; an account naming one would clash with the protocol's.
const PROTOCOL_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'sid', 'auth_time', 'acr', 'amr', 'azp', 'at_hash', 'c_hash', 's_hash']);

export async function startOidcIssuer(opts: OidcIssuerOptions): Promise<TestOidcIssuer> {
  const Provider = await loadProvider();
  const accounts = new Map(opts.accounts.map((a) => [a.username, a]));
  const ttl = opts.idTokenTtlSeconds ?? 3600;
  const claimNames = [
    ...new Set(['groups', 'clinicId', 'pools', 'preferred_username', ...opts.accounts.flatMap((a) => Object.keys(a.claims))]),
  ].filter((c) => !PROTOCOL_CLAIMS.has(c));
  // The web UI's origin is the redirect URIs' origin: that is where its token request comes from.
  const corsOrigins = new Set(opts.redirectUris.map((u) => new URL(u).origin));

  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

  type Handler = (req: IncomingMessage, res: ServerResponse) => void;
  // Requests cannot arrive before the issuer URL is known, yet the server must listen to learn it.
  let dispatch: Handler = (_req, res) => send(res, 503, page('Starting', ''));
  const server = createServer((req, res) => dispatch(req, res));
  // The issuer URL carries the port, and the provider is built from the issuer: listen first.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(new Map()),
    // Keys that sign the provider's own cookies (session, interaction): fresh per issuer.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [signingKey] },
    clients: [
      {
        client_id: opts.clientId,
        // 'web', not 'native': native clients are always sent to a consent prompt.
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        response_types: ['code'],
        // Refresh tokens renew the web UI's ID token before it expires (as Cognito's do).
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: opts.redirectUris,
        post_logout_redirect_uris: opts.postLogoutRedirectUris ?? [],
        id_token_signed_response_alg: 'RS256',
      },
    ],
    // With conformIdTokenClaims (the default) an ID token carries only the claims of the `openid`
    // scope when a userinfo endpoint exists, so the role/clinic/pool claims are tied to that scope:
    // a plain `scope=openid` gets them in the ID token, as Cognito does for its groups.
    claims: { openid: ['sub', ...claimNames] },
    scopes: ['openid'],
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account.claims, sub }) };
    },
    pkce: { required: () => true },
    // By default a refresh token needs the offline_access scope and a consent prompt; Cognito gives one
    // with every code exchange, and so does this issuer.
    issueRefreshToken: async () => true,
    // Consent is answered for the user: the grant covers whatever OIDC scopes and claims the
    // request asks, so the only interaction is the login form.
    async loadExistingGrant(ctx: OidcKoaContext) {
      const { oidc } = ctx;
      const accountId = oidc.account?.accountId;
      if (!accountId) return undefined;
      const clientId = oidc.client.clientId;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      // A grant of the session's previous account must not be handed to a new one.
      if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) grant = new oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    clientBasedCORS: (_ctx: unknown, origin: string) => corsOrigins.has(origin),
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // The default page asks "Do you want to sign-out?"; a test browser should just go on.
        async logoutSource(ctx: OidcKoaContext, form: string) {
          ctx.type = 'html';
          ctx.body = page(
            'Signing out',
            `${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<button type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById('op.logoutForm').submit()</script>`,
          );
        },
        async postLogoutSuccessSource(ctx: OidcKoaContext) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>Signed out</h1>');
        },
      },
    },
    async renderError(ctx: OidcKoaContext, out: Record<string, string>) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>${escapeHtml(out['error'] ?? 'error')}</h1><p>${escapeHtml(out['error_description'] ?? '')}</p>`);
    },
    // Numbers rather than the default functions, which print a "you SHOULD change this" notice.
    ttl: { AccessToken: ttl, IdToken: ttl, RefreshToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
  });

  const handleInteraction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      // No interaction cookie, or the interaction expired: nothing to resume.
      send(res, 400, page('Sign-in expired', '<p>This sign-in request is unknown or has expired; start again from the application.</p>'));
      return;
    }
    if (details.prompt.name !== 'login') {
      // loadExistingGrant answers consent; any other prompt means the configuration drifted.
      send(res, 501, page('Unsupported', `<p>The test issuer does not handle the "${escapeHtml(details.prompt.name)}" prompt.</p>`));
      return;
    }
    if (req.method !== 'POST') {
      const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : '';
      send(res, 200, loginPage(details.uid, hint));
      return;
    }
    const form = await readForm(req);
    const login = (form.get('login') ?? '').trim();
    if (!accounts.has(login)) {
      send(res, 401, loginPage(details.uid, login, `Unknown user "${login}".`));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  };
  const providerCallback = provider.callback();
  dispatch = (req, res) => {
    // oidc-provider leaves the interaction routes to the application when devInteractions is off.
    if (new URL(req.url ?? '/', issuer).pathname.startsWith('/interaction/')) {
      handleInteraction(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, page('Error', '<p>Sign-in failed.</p>'));
        else res.end();
      });
    } else {
      providerCallback(req, res);
    }
  };

  return {
    issuer,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
