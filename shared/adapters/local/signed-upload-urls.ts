import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { UploadTarget, UploadTargetSigner } from '../../ports/upload-targets.ts';

interface Grant {
  k: string; // object key
  m: number; // max bytes
  e: number; // expiry, epoch seconds
}

/**
 * Local stand-in for presigned S3 PUTs: `<baseUrl>/api/uploads/<payload>.<hmac>`, the payload naming
 * one key, a maximum size and an expiry. Tampering with any of them breaks the HMAC.
 */
export class HmacUploadTargetSigner implements UploadTargetSigner {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
    private readonly baseUrl = '',
  ) {}

  async create(key: string, opts: { maxBytes: number; contentType: string; expiresInSeconds: number }): Promise<UploadTarget> {
    const e = Math.floor(this.clock.now().getTime() / 1000) + opts.expiresInSeconds;
    const payload = Buffer.from(JSON.stringify({ k: key, m: opts.maxBytes, e } satisfies Grant)).toString('base64url');
    return {
      url: `${this.baseUrl}/api/uploads/${payload}.${this.mac(payload)}`,
      method: 'PUT',
      headers: { 'content-type': opts.contentType },
      expiresAt: new Date(e * 1000).toISOString(),
    };
  }

  /** The key and size limit a token grants; UPLOAD.INVALID_URL (tampered) or UPLOAD.URL_EXPIRED. */
  verify(token: string): { key: string; maxBytes: number } {
    const [payload, mac] = token.split('.');
    const bad = new AppError('UPLOAD.INVALID_URL', 'forbidden', 'This upload URL is not valid (altered or not issued here). Ask for new upload URLs.');
    if (!payload || !mac) throw bad;
    const want = Buffer.from(this.mac(payload));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw bad;
    let g: Grant;
    try {
      g = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Grant;
    } catch {
      throw bad;
    }
    if (typeof g.k !== 'string' || typeof g.m !== 'number' || typeof g.e !== 'number') throw bad;
    if (g.e * 1000 <= this.clock.now().getTime()) {
      throw new AppError('UPLOAD.URL_EXPIRED', 'gone', 'This upload URL has expired. Ask for new upload URLs and send the file again.');
    }
    return { key: g.k, maxBytes: g.m };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
