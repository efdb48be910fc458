/**
 * Hands out upload targets bound to one key, a maximum size and an expiry:
 * presigned S3 PUTs on AWS, HMAC-signed local URLs on one machine.
 */
export interface UploadTargetSigner {
  create(key: string, opts: { maxBytes: number; contentType: string; expiresInSeconds: number }): Promise<UploadTarget>;
}
export interface UploadTarget {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
}
