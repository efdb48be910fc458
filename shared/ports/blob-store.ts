/** Object storage for uploads, quarantine and reports. Keys are `/`-separated, never absolute, never `..`. */
export interface BlobStore {
  /** Store bytes under key, atomically: readers see the old object or the whole new one. */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<StoredObject>;
  /** Size and store time of the object, or null if there is none. */
  head(key: string): Promise<{ size: number; lastModified?: string | undefined } | null>;
  /** Up to `length` bytes from `offset`; shorter at the end of the object. Missing key → BLOB.NOT_FOUND. */
  readRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** The whole object as a stream of chunks. */
  stream(key: string): AsyncIterable<Uint8Array>;
  /** SHA-256 (hex) of the object, computed by streaming it. */
  sha256(key: string): Promise<string>;
  /** Byte-identical copy; used to keep refused uploads under quarantine/. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /**
   * The object under a new key, gone from the old one (replacing any object there). Only for transient
   * staging objects (STOW-RS parts filed under their submission). Atomic where the store can rename
   * (the local disk, which also removes the emptied staging directory); on S3 a copy then a
   * best-effort delete, so a crash or a failed delete leaves a stale source behind (locally the
   * start-up sweep of stow/ removes such; S3 needs a lifecycle rule on the prefix). Missing source →
   * BLOB.NOT_FOUND.
   */
  move(fromKey: string, toKey: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Remove the object; a missing one is fine. Only for transient staging copies (STOW-RS parts before
   * they are filed under a submission): uploads, quarantine and reports are never deleted.
   */
  delete(key: string): Promise<void>;
}

export interface PutOptions {
  /** Refuse (BLOB.TOO_LARGE) and store nothing when the body exceeds this many bytes. */
  maxBytes?: number;
  contentType?: string;
}

export interface StoredObject {
  key: string;
  size: number;
  sha256: string;
}
