import type { IncomingMessage, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node's default `requestTimeout` (300 s for a whole request) would cut a 500 MB cine arriving over a
 * township's 10 Mbit/s link (≈ 400 s), and the web client then has no way to finish it. So it is off,
 * and `limitSlowRequests` puts the limits back where they belong: a bulk body (an upload, a STOW-RS
 * request) may take as long as it keeps arriving, but is cut after `IDLE_BODY_MS` of silence (a client
 * that vanished, freeing its upload for a retry); every other request body must be complete within
 * `OTHER_BODY_MS`, as before. A request whose body is in and whose answer is being worked out (a STOW
 * filing many parts) is never cut. Header slowloris stays bounded by Node's `headersTimeout`.
 */
export const SERVER_OPTIONS: ServerOptions = { requestTimeout: 0 };
export const IDLE_BODY_MS = 120_000;
export const OTHER_BODY_MS = 300_000;

/** Uploads and STOW-RS: bodies that may take long on a slow link. */
const BULK = /^\/(api\/uploads\/|dicomweb\/studies)/;

interface ServerLike {
  on(event: 'request', listener: (req: IncomingMessage) => void): unknown;
  on(event: 'timeout', listener: (socket: Socket) => void): unknown;
}

export function limitSlowRequests(server: ServerLike, opts: { idleBodyMs?: number; otherBodyMs?: number } = {}): void {
  const idleMs = opts.idleBodyMs ?? IDLE_BODY_MS;
  const otherMs = opts.otherBodyMs ?? OTHER_BODY_MS;
  const current = new WeakMap<Socket, IncomingMessage>();
  // A socket's idle timer (set below for bulk bodies, refreshed by every byte in or out) fires here.
  // With this listener Node no longer destroys the socket by itself: cut it only while the body is
  // still arriving. Once the body is in, silence is the server working (a STOW filing many parts).
  server.on('timeout', (socket) => {
    const req = current.get(socket);
    if (!req || !req.complete) socket.destroy();
  });
  server.on('request', (req) => {
    const socket = req.socket as Socket;
    current.set(socket, req);
    if (req.complete) return;
    if (BULK.test(req.url ?? '')) {
      socket.setTimeout(idleMs);
      const off = () => socket.setTimeout(0);
      req.once('end', off);
      req.once('close', off);
      return;
    }
    const timer = setTimeout(() => {
      if (!req.complete) socket.destroy();
    }, otherMs);
    timer.unref();
    const done = () => clearTimeout(timer);
    req.once('end', done);
    req.once('close', done);
  });
}
