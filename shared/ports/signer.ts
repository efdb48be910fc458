/**
 * Signs canonical report bytes with the signer's own P-256 key, which only the signer's PIN unseals.
 * Produces a compact detached JWS (ES256, empty payload part).
 */
export interface ReportSigner {
  /** Create the signer's key pair sealed under the PIN, if the signer has none yet (`created` false: the key they had). */
  enrol(signerId: string, pin: string): Promise<{ kid: string; created: boolean }>;
  /**
   * A new key pair under a new PIN becomes the signer's current key (a forgotten PIN). Older public
   * keys stay published so earlier reports still verify; only the current key signs.
   */
  rotate(signerId: string, pin: string): Promise<{ kid: string }>;
  /** SIGN.BAD_PIN when the PIN does not unseal the key; SIGN.NO_KEY when the signer has none. */
  signDetached(signerId: string, pin: string, payload: Uint8Array): Promise<{ jws: string; kid: string }>;
  /** Unseal once (SIGN.BAD_PIN / SIGN.NO_KEY as above) and sign several payloads with the same key. */
  openSession(signerId: string, pin: string): Promise<SigningSession>;
  /** Every signer's public keys, old ones included, as a JWKS. */
  jwks(): Promise<{ keys: Record<string, unknown>[] }>;
}

/** Where sealed signer keys are kept (SQLite locally, DynamoDB on AWS). */
export interface SealedSignerKey {
  signerId: string;
  kid: string;
  publicJwk: Record<string, unknown>;
  /** scrypt parameters, salt, AES-256-GCM iv, tag and ciphertext of the PKCS#8 private key, base64url. */
  sealed: { alg: 'scrypt+A256GCM'; N: number; r: number; p: number; salt: string; iv: string; tag: string; ciphertext: string };
  createdAt: string;
}
export interface SignerKeyStore {
  /** Create-once on signerId+kid. */
  put(k: SealedSignerKey): Promise<void>;
  /** The signer's current (newest) key. */
  current(signerId: string): Promise<SealedSignerKey | null>;
  all(): Promise<SealedSignerKey[]>;
}

/** An unsealed signing key, held only for the duration of one signing act. */
export interface SigningSession {
  kid: string;
  signDetached(payload: Uint8Array): Promise<{ jws: string; kid: string }>;
}
