import { z } from 'zod';

export const ROLES = ['technician', 'reader', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** The authenticated caller, as carried by the bearer token. */
export const PrincipalSchema = z.object({
  userId: z.string(),
  role: RoleSchema,
  clinicId: z.string().optional(),
  pools: z.array(z.string()).optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const LoginRequestSchema = z.object({
  username: z.string().min(1, 'username is required').max(100),
  password: z.string().min(1, 'password is required').max(200),
});
/** A password an operator sets on one machine (the identity provider's own policy applies on AWS). */
export const NewPasswordSchema = z
  .string()
  .min(12, 'a password has at least 12 characters')
  .max(200, 'a password has at most 200 characters (the longest sign-in accepts)')
  .refine((p) => p.trim() === p, 'a password does not start or end with a space (they are easily lost when typed)');

export const LoginResponseSchema = z.object({
  token: z.string(),
  user: z.object({
    id: z.string(),
    role: RoleSchema,
    displayName: z.string(),
    clinicId: z.string().optional(),
    pools: z.array(z.string()).optional(),
  }),
});
