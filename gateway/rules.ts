/**
 * The local rule file: what the gateway declares for a study it sends — priority, clinical note and
 * the clinic's consent attestation — matched by calling AE title, Modality and BodyPartExamined.
 * The first matching rule wins; a study no rule matches is routine. A study whose rule (or the
 * file's top-level default) carries no consent attestation is held in the spool, never sent: the
 * gateway does not invent a patient's consent.
 *
 *   {
 *     "consent": { "obtained": true, "recordedBy": "clinic-a registration desk (standing consent form)" },
 *     "rules": [
 *       { "match": { "callingAeTitle": "ECG-CART-1" }, "priority": "urgent", "clinicalNote": "Chest pain pathway" },
 *       { "match": { "Modality": ["CR", "DX"], "BodyPartExamined": "CHEST" }, "priority": "routine" }
 *     ]
 *   }
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PrioritySchema } from '../shared/contracts/api.ts';

const OneOrMany = z.union([z.string().trim().min(1), z.array(z.string().trim().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const ConsentSchema = z.object({
  obtained: z.literal(true, { error: 'consent.obtained must be true: it attests that the clinic recorded the patient’s consent' }),
  recordedBy: z.string().trim().min(1).max(200).optional(),
});

const RuleSchema = z.object({
  match: z
    .object({ callingAeTitle: OneOrMany.optional(), Modality: OneOrMany.optional(), BodyPartExamined: OneOrMany.optional() })
    .strict()
    .default({}),
  priority: PrioritySchema.optional(),
  clinicalNote: z.string().max(4000).optional(),
  consent: ConsentSchema.optional(),
});

export const RuleFileSchema = z
  .object({
    consent: ConsentSchema.optional(),
    rules: z.array(RuleSchema).default([]),
  })
  .strict();
export type RuleFile = z.infer<typeof RuleFileSchema>;

export interface StudyFacts {
  callingAeTitle: string;
  Modality: string;
  BodyPartExamined?: string | undefined;
}

export interface Decision {
  priority: 'stat' | 'urgent' | 'routine';
  clinicalNote?: string | undefined;
  consent: { obtained: true; recordedBy?: string | undefined } | null;
  /** Index of the rule that matched, or null for the default. */
  rule: number | null;
}

const norm = (s: string | undefined) => (s ?? '').trim().toUpperCase();

/** The first rule whose every given field matches (case-insensitive); routine when none does. */
export function decide(file: RuleFile, s: StudyFacts): Decision {
  const idx = file.rules.findIndex((r) => {
    const m = r.match;
    const ok = (want: string[] | undefined, have: string | undefined) => !want || want.some((w) => norm(w) === norm(have));
    return ok(m.callingAeTitle, s.callingAeTitle) && ok(m.Modality, s.Modality) && ok(m.BodyPartExamined, s.BodyPartExamined);
  });
  const r = idx >= 0 ? file.rules[idx]! : undefined;
  return {
    priority: r?.priority ?? 'routine',
    clinicalNote: r?.clinicalNote,
    consent: r?.consent ?? file.consent ?? null,
    rule: idx >= 0 ? idx : null,
  };
}

/** Reads and validates a rule file; no file means no rules (everything routine, and held for consent). */
export async function loadRules(path: string | undefined): Promise<RuleFile> {
  if (path === undefined) return { rules: [] };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read the rule file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`The rule file ${path} is not valid JSON.`);
  }
  const r = RuleFileSchema.safeParse(json);
  if (!r.success) throw new Error(`The rule file ${path} is invalid: ${r.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ')}`);
  return r.data;
}
