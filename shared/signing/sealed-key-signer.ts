/**
 * ReportSigner over sealed per-signer P-256 keys: each signer's PKCS#8 private key is stored only
 * encrypted with AES-256-GCM under a key that scrypt derives from the signer's PIN, so nothing can
 * sign without the signer's PIN. Signatures are standard detached compact JWS (RFC 7515 Appendix F):
 * the ordinary ES256 JWS over the payload with the payload part left empty.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes, scrypt, webcrypto, type ScryptOptions } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, type JWK } from 'jose';
import { AppError } from '../domain/errors.ts';
import type { ReportSigner, SealedSignerKey, SignerKeyStore, SigningSession } from '../ports/signer.ts';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
export interface SealedKeyReportSignerOptions {
  /** Cost of deriving the sealing key from a PIN for new keys; existing keys keep the cost they were sealed with. */
  scrypt?: ScryptParams;
  now?: () => Date;
}

/** N = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per derivation. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
/** Shortest PIN accepted when a key is sealed (the demo PIN has six digits). */
export const MIN_PIN_LENGTH = 6;
const MAX_PIN_LENGTH = 256;
const SEAL_ALG = 'scrypt+A256GCM' as const;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const badPin = () => new AppError('SIGN.BAD_PIN', 'forbidden', 'The signing PIN is not correct.');
const noKey = () => new AppError('SIGN.NO_KEY', 'conflict', 'This signer has no signing key yet; enrol a signing PIN first.');
const corrupt = () => new AppError('SIGN.KEY_CORRUPT', 'internal', 'The stored signing key cannot be used.');

function checkSignerId(signerId: unknown): asserts signerId is string {
  if (typeof signerId !== 'string' || signerId.length === 0 || signerId.length > 256) {
    throw new AppError('SIGN.BAD_SIGNER', 'invalid', 'A signer id is required.');
  }
}

/** Rejects parameters that are not a sane scrypt cost (also guards against a tampered store asking for GiBs). */
function checkScrypt(s: ScryptParams): ScryptParams {
  const ok =
    Number.isInteger(s.N) && s.N >= 2 ** 10 && s.N <= 2 ** 20 && (s.N & (s.N - 1)) === 0 &&
    Number.isInteger(s.r) && s.r >= 1 && s.r <= 32 &&
    Number.isInteger(s.p) && s.p >= 1 && s.p <= 16 &&
    128 * s.N * s.r <= 256 * 1024 * 1024;
  if (!ok) throw new RangeError(`Unsupported scrypt parameters N=${s.N} r=${s.r} p=${s.p}`);
  return s;
}

function deriveKey(pin: string, salt: Buffer, s: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly 128*N*r for the default cost, which OpenSSL refuses.
  const options: ScryptOptions = { N: s.N, r: s.r, p: s.p, maxmem: 128 * s.N * s.r * (s.p + 1) + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(Buffer.from(pin.normalize('NFC'), 'utf8'), salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Binds a sealed blob to its signer and key: a blob moved to another signer or kid fails authentication. */
const additionalData = (signerId: string, kid: string) =>
  Buffer.from(JSON.stringify(['teleread/sealed-signer-key/v1', signerId, kid]), 'utf8');

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const fromB64u = (s: unknown): Buffer => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw corrupt();
  return Buffer.from(s, 'base64url');
};

export class SealedKeyReportSigner implements ReportSigner {
  readonly #store: SignerKeyStore;
  readonly #scrypt: ScryptParams;
  readonly #now: () => Date;
  /** Serializes enrol/rotate per signer within this process, so two concurrent enrols make one key. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(store: SignerKeyStore, opts: SealedKeyReportSignerOptions = {}) {
    this.#store = store;
    this.#scrypt = checkScrypt({ ...(opts.scrypt ?? DEFAULT_SCRYPT) });
    this.#now = opts.now ?? (() => new Date());
  }

  /** Creates the signer's key sealed under `pin` unless the signer already has one; returns the current kid. */
  async enrol(signerId: string, pin: string): Promise<{ kid: string; created: boolean }> {
    checkSignerId(signerId);
    return this.#serialized(signerId, async () => {
      const existing = await this.#store.current(signerId);
      if (existing) return { kid: existing.kid, created: false };
      return { ...(await this.#createKey(signerId, pin)), created: true };
    });
  }

  /**
   * Creates a new key sealed under `pin` and makes it the signer's current key (for a changed or
   * forgotten PIN). Older keys stay published in the JWKS so earlier reports still verify; they can
   * no longer sign because only the current key is used. The caller must have authenticated the signer.
   */
  async rotate(signerId: string, pin: string): Promise<{ kid: string }> {
    checkSignerId(signerId);
    return this.#serialized(signerId, () => this.#createKey(signerId, pin));
  }

  async signDetached(signerId: string, pin: string, payload: Uint8Array): Promise<{ jws: string; kid: string }> {
    checkSignerId(signerId);
    if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array');
    const record = await this.#store.current(signerId);
    if (!record) throw noKey();
    if (typeof pin !== 'string' || pin.length === 0 || pin.length > MAX_PIN_LENGTH) throw badPin();

    const privateKey = await this.#unseal(record, pin);
    const compact = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: record.kid }).sign(privateKey);
    const [header, , signature] = compact.split('.');
    // RFC 7515 Appendix F: the same JWS with its payload part emptied; verifiers re-attach the payload.
    return { jws: `${header}..${signature}`, kid: record.kid };
  }

  /**
   * Unseal once, sign several payloads: a report signs its content and then its envelope, and the PIN
   * derivation (scrypt) is the expensive step. The key lives only inside the returned closure.
   */
  async openSession(signerId: string, pin: string): Promise<SigningSession> {
    checkSignerId(signerId);
    const record = await this.#store.current(signerId);
    if (!record) throw noKey();
    if (typeof pin !== 'string' || pin.length === 0 || pin.length > MAX_PIN_LENGTH) throw badPin();
    const privateKey = await this.#unseal(record, pin);
    return {
      kid: record.kid,
      async signDetached(payload: Uint8Array) {
        if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array');
        const compact = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: record.kid }).sign(privateKey);
        const [header, , signature] = compact.split('.');
        return { jws: `${header}..${signature}`, kid: record.kid };
      },
    };
  }

  /** Every signer's public keys, old ones included, each with kid, alg ES256 and use sig. */
  async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const records = await this.#store.all();
    const seen = new Set<string>();
    const keys: Record<string, unknown>[] = [];
    for (const r of [...records].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.kid.localeCompare(b.kid))) {
      if (seen.has(r.kid)) continue;
      seen.add(r.kid);
      const { kty, crv, x, y } = r.publicJwk;
      keys.push({ kty, crv, x, y, kid: r.kid, alg: 'ES256', use: 'sig' });
    }
    return { keys };
  }

  async #createKey(signerId: string, pin: string): Promise<{ kid: string }> {
    if (typeof pin !== 'string' || pin.length < MIN_PIN_LENGTH || pin.length > MAX_PIN_LENGTH) {
      throw new AppError('SIGN.WEAK_PIN', 'invalid', `The signing PIN must have at least ${MIN_PIN_LENGTH} characters.`);
    }
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = publicKey.export({ format: 'jwk' }) as JWK;
    const publicJwk = { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y };
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');

    const s = this.#scrypt;
    const salt = randomBytes(SALT_BYTES);
    const iv = randomBytes(IV_BYTES);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const key = await deriveKey(pin, salt, s);
    let ciphertext: Buffer;
    let tag: Buffer;
    try {
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(additionalData(signerId, kid));
      ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
      tag = cipher.getAuthTag();
    } finally {
      key.fill(0);
      der.fill(0);
    }
    const record: SealedSignerKey = {
      signerId,
      kid,
      publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' },
      sealed: { alg: SEAL_ALG, N: s.N, r: s.r, p: s.p, salt: b64u(salt), iv: b64u(iv), tag: b64u(tag), ciphertext: b64u(ciphertext) },
      createdAt: this.#now().toISOString(),
    };
    await this.#store.put(record);
    return { kid };
  }

  /** Decrypts the sealed PKCS#8 key into a non-extractable CryptoKey; the plaintext bytes are zeroed. */
  async #unseal(record: SealedSignerKey, pin: string): Promise<webcrypto.CryptoKey> {
    const { sealed } = record;
    if (sealed?.alg !== SEAL_ALG) throw corrupt();
    let params: ScryptParams;
    try {
      params = checkScrypt({ N: sealed.N, r: sealed.r, p: sealed.p });
    } catch {
      throw corrupt();
    }
    const salt = fromB64u(sealed.salt);
    const iv = fromB64u(sealed.iv);
    const tag = fromB64u(sealed.tag);
    const ciphertext = fromB64u(sealed.ciphertext);
    if (salt.length !== SALT_BYTES || iv.length !== IV_BYTES || tag.length !== TAG_BYTES || ciphertext.length === 0) throw corrupt();

    const key = await deriveKey(pin, salt, params);
    const parts: Buffer[] = [];
    let der: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(record.signerId, record.kid));
      decipher.setAuthTag(tag);
      parts.push(decipher.update(ciphertext));
      try {
        parts.push(decipher.final());
      } catch {
        throw badPin(); // GCM authentication failed: wrong PIN, or a blob of another signer or key
      }
      der = Buffer.concat(parts);
      try {
        return await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      } catch {
        throw corrupt();
      }
    } finally {
      key.fill(0);
      for (const p of parts) p.fill(0);
      der?.fill(0);
    }
  }

  async #serialized<T>(signerId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(signerId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(signerId, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(signerId) === settled) this.#locks.delete(signerId);
    }
  }
}
