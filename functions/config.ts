import { z } from 'zod';
import { describeIssues } from '../shared/contracts/describe.ts';

const QueueLocationSchema = z.object({ url: z.string().url(), dlqUrl: z.string().url().optional() });

/**
 * Settings of every Lambda function, set by the app stack as environment variables and read once,
 * at module scope, by the `*.lambda.ts` entry points.
 */
export const AwsConfigSchema = z.object({
  TELEREAD_STAGE: z.string().min(1).default('dev'),
  TELEREAD_TABLE: z.string().min(3),
  TELEREAD_UPLOADS_BUCKET: z.string().min(3),
  TELEREAD_REPORTS_BUCKET: z.string().min(3),
  /** JSON: logical queue name (`ecg.stat`, `ingest`, `delivery`, …) → `{url, dlqUrl}`. */
  TELEREAD_QUEUES: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'TELEREAD_QUEUES is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), QueueLocationSchema)),
  TELEREAD_LEASE_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  TELEREAD_UPLOAD_URL_SECONDS: z.coerce.number().int().min(30).max(300).default(300),
  TELEREAD_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).default(2 * 1024 ** 3),
  TELEREAD_READ_WAIT_SECONDS: z.coerce.number().int().min(0).max(5).default(0),
  /** Key (in the uploads bucket) of the standalone Noto Sans CJK SC face used by the report PDFs. */
  TELEREAD_FONT_KEY: z.string().min(1).default('config/fonts/NotoSansCJKsc-Regular.otf'),
  TELEREAD_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(15),
});
export type AwsConfig = z.infer<typeof AwsConfigSchema>;

export function loadAwsConfig(env: Record<string, string | undefined>): AwsConfig {
  const r = AwsConfigSchema.safeParse(env);
  if (!r.success) throw new Error(`Invalid configuration: ${describeIssues(r.error)}`);
  return r.data;
}
