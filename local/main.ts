import { serve } from '@hono/node-server';
import { loadLocalConfig } from '../shared/contracts/config.ts';
import { ScaledClock } from '../shared/ports/clock.ts';
import { composeLocal } from './compose.ts';
import { limitSlowRequests, SERVER_OPTIONS } from './http-server.ts';

/** `npm start`: one process serving the API and running the ingest, delivery and lease workers. */
async function main() {
  const cfg = loadLocalConfig(process.env);
  const origin = cfg.TELEREAD_PUBLIC_URL ?? `http://${cfg.HOST.includes(':') ? `[${cfg.HOST}]` : cfg.HOST}:${cfg.PORT}`;
  const clock =
    cfg.TELEREAD_TIME_SCALE > 1
      ? new ScaledClock(cfg.TELEREAD_TIME_START ? Date.parse(cfg.TELEREAD_TIME_START) : Date.now(), cfg.TELEREAD_TIME_SCALE)
      : undefined;
  const sys = await composeLocal(cfg, {
    publicUrl: origin,
    clock,
    // A failed fsync: acknowledged writes may not be on disk. Stop at once (EX_SOFTWARE) rather than
    // serve from state that may not survive; the supervisor restarts TeleRead and SQLite recovers.
    onFatal: () => process.exit(70),
  });
  sys.start();
  const server = serve({ fetch: sys.app.fetch, port: cfg.PORT, hostname: cfg.HOST, serverOptions: SERVER_OPTIONS }, (info) => {
    const url = cfg.TELEREAD_PUBLIC_URL ?? `http://${cfg.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.HOST}:${info.port}`;
    const c = sys.deps.directory.consortium();
    process.stdout.write(
      [
        '',
        `TeleRead is running at ${url}  (data: ${sys.dataDir})`,
        `Consortium: ${c.name}`,
        sys.createdDemo ? 'Created the demo consortium on this new data directory.' : '',
        ...(cfg.TELEREAD_OIDC_ISSUER
          ? [
              `Sign-in: through ${cfg.TELEREAD_OIDC_ISSUER} (client ${cfg.TELEREAD_OIDC_CLIENT_ID}); password sign-in is off.`,
              `  register ${url}/auth/callback as the client's redirect URI and ${url}/login as its post-logout URI`,
            ]
          : [
              'Demo logins (username / password):',
              ...c.users.map((u) => `  ${u.username.padEnd(11)} ${u.role.padEnd(10)} ${u.clinicId ?? (u.pools ?? []).join(',')}`),
              // Only a new data directory's password is known for sure; later ones were set at its creation.
              `  password: ${sys.createdDemo ? cfg.TELEREAD_DEMO_PASSWORD : '(as set when the data directory was created; default teleread-demo)'}`,
            ]),
        `  readers' signing PIN: ${cfg.TELEREAD_DEMO_PIN}`,
        '',
      ]
        .filter((l) => l !== '')
        .join('\n') + '\n',
    );
  });
  limitSlowRequests(server as unknown as Parameters<typeof limitSlowRequests>[0]);
  const shutdown = async () => {
    server.close();
    await sys.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((e: unknown) => {
  process.stderr.write(`TeleRead could not start: ${(e as Error).message}\n`);
  process.exit(1);
});
