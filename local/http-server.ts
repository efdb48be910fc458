import type { ServerOptions } from 'node:http';

/**
 * Node's default `requestTimeout` (300 s for a whole request) would cut a 500 MB cine arriving over a
 * township's 10 Mbit/s link (≈ 400 s), and the web client then has no way to finish it. A slow client
 * is not a dead one: the server instead drops a connection that has been silent for
 * `IDLE_CONNECTION_MS` (no byte either way), which frees an upload held by a client that vanished.
 * Header slowloris stays bounded by Node's `headersTimeout`.
 */
export const SERVER_OPTIONS: ServerOptions = { requestTimeout: 0 };
export const IDLE_CONNECTION_MS = 120_000;

/** Apply the idle limit to a server made with SERVER_OPTIONS (`serve` from @hono/node-server returns it). */
export function limitIdleConnections(server: { setTimeout(msecs: number): unknown }, idleMs = IDLE_CONNECTION_MS): void {
  // With no 'timeout' listener, Node destroys a socket that stays idle this long.
  server.setTimeout(idleMs);
}
