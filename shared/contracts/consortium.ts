import { z } from 'zod';
import { RoleSchema } from './auth.ts';

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'ids are lower-case letters, digits and dashes');

export const UserRecordSchema = z
  .object({
    id: Id,
    username: z.string().min(1),
    displayName: z.string().min(1),
    role: RoleSchema,
    clinicId: Id.optional(),
    pools: z.array(Id).optional(),
    passwordHash: z.string().min(1),
    /** 执业医师编号, printed on signed reports. */
    licenceNumber: z.string().optional(),
    institution: z.string().optional(),
  })
  .superRefine((u, ctx) => {
    if (u.role === 'technician' && !u.clinicId) ctx.addIssue({ code: 'custom', message: `technician ${u.id} needs a clinicId` });
    if (u.role === 'reader' && !(u.pools && u.pools.length)) ctx.addIssue({ code: 'custom', message: `reader ${u.id} needs at least one pool` });
  });
export type UserRecord = z.infer<typeof UserRecordSchema>;

export const ConsortiumSchema = z
  .object({
    name: z.string().min(1),
    county: z.object({ id: Id, name: z.string().min(1) }),
    clinics: z
      .array(
        z.object({
          id: Id,
          name: z.string().min(1),
          /** Where signed reports are announced (ids only, HMAC-SHA256 signed with `secret`); optional. */
          webhook: z
            .object({
              url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'the webhook url is http(s)'),
              secret: z.string().min(16, 'a webhook secret has at least 16 characters'),
            })
            .optional(),
        }),
      )
      .min(1),
    pools: z.array(z.object({ id: Id, name: z.string().min(1) })).min(1),
    /** Modality → pool id. */
    routing: z.record(z.string().regex(/^[A-Z0-9]{1,16}$/), Id),
    users: z.array(UserRecordSchema),
  })
  .superRefine((c, ctx) => {
    const pools = new Set(c.pools.map((p) => p.id));
    const clinics = new Set(c.clinics.map((x) => x.id));
    for (const [m, p] of Object.entries(c.routing)) {
      if (!pools.has(p)) ctx.addIssue({ code: 'custom', message: `routing ${m} → ${p}: no such pool` });
    }
    const seen = new Set<string>();
    for (const u of c.users) {
      if (seen.has(u.username)) ctx.addIssue({ code: 'custom', message: `username ${u.username} appears twice` });
      seen.add(u.username);
      if (u.clinicId && !clinics.has(u.clinicId)) ctx.addIssue({ code: 'custom', message: `user ${u.id}: no clinic ${u.clinicId}` });
      for (const p of u.pools ?? []) if (!pools.has(p)) ctx.addIssue({ code: 'custom', message: `user ${u.id}: no pool ${p}` });
    }
  });
export type Consortium = z.infer<typeof ConsortiumSchema>;
