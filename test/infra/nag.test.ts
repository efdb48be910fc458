/**
 * cdk-nag v3 (AwsSolutions + HIPAA.Security): no unacknowledged error or warning, and the register
 * (infra/nag-acknowledgments.ts) kept in sync with the code in both directions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NAG_ACKNOWLEDGMENTS, type NagAcknowledgment } from '../../infra/nag-acknowledgments.ts';
import { synth, type Synth, type Violation } from './support.ts';

const ROOT = join(import.meta.dirname, '../..');
const CN = { env: { region: 'cn-northwest-1', account: '123456789012' }, app: { identity: { issuer: 'https://idp.example.cn/realms/teleread', audience: ['teleread-web'] } } };

/** Does this register entry cover this violation (same stack, rule[finding], at or under its path)? */
function covers(a: NagAcknowledgment, v: Violation, s: Synth): boolean {
  const stackName = a.stack === 'app' ? s.stacks.app.stackName : s.stacks.stateful.stackName;
  if (v.stack !== stackName) return false;
  const id = a.finding ? `${a.rule}[${a.finding.replaceAll('{stateful}', s.stacks.stateful.stackName)}]` : a.rule;
  return v.rule === id && (v.path === a.path || v.path.startsWith(`${a.path}/`));
}

describe('cdk-nag: AwsSolutions and HIPAA.Security', () => {
  let raw: Synth;
  let acked: Synth;
  beforeAll(() => {
    raw = synth({ register: [] });
    acked = synth({});
  });

  it('finds something to check without the register (the packs run)', () => {
    expect(raw.violations.length).toBeGreaterThan(5);
  });

  it('reports no unacknowledged error or warning with the register applied', () => {
    expect(acked.violations.map((v) => `${v.severity} ${v.rule} @ ${v.stack}/${v.path}`)).toEqual([]);
  });

  it('every finding is acknowledged by the register, and every register entry still matches a finding', () => {
    const uncovered = raw.violations.filter((v) => !NAG_ACKNOWLEDGMENTS.some((a) => covers(a, v, raw)));
    expect(uncovered).toEqual([]);
    const unused = NAG_ACKNOWLEDGMENTS.filter((a) => !raw.violations.some((v) => covers(a, v, raw)));
    expect(unused).toEqual([]);
  });

  it('every acknowledgment names its rule, its finding where the rule reports several, and a reason of at least 40 characters', () => {
    for (const a of NAG_ACKNOWLEDGMENTS) {
      expect(a.rule).toMatch(/^(AwsSolutions|HIPAA\.Security)-[A-Za-z0-9]+$/);
      expect(a.reason.trim().length, `${a.rule} @ ${a.path}`).toBeGreaterThanOrEqual(40);
      if (a.rule === 'AwsSolutions-IAM5') expect(a.finding, `${a.path}`).toMatch(/^(Resource|Action)::/);
    }
    const keys = NAG_ACKNOWLEDGMENTS.map((a) => `${a.stack}/${a.path}/${a.rule}/${a.finding ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('acknowledgments are made only from the register (infra/teleread.ts applies it)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
    const users = files(join(ROOT, 'infra'))
      .filter((f) => /Validations\.of\([^)]*\)\s*\.acknowledge\(|NagSuppressions/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(users).toEqual(['infra/teleread.ts']);
  });

  it('the China deployment (OIDC issuer, no CloudFront) is clean too', () => {
    expect(synth(CN).violations).toEqual([]);
  });
});
