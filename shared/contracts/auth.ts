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
