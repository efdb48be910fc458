import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { applyNagAcknowledgments, buildTeleRead, type TeleReadProps, type TeleReadStacks } from '../../infra/teleread.ts';
import type { NagAcknowledgment } from '../../infra/nag-acknowledgments.ts';

export interface Violation {
  rule: string;
  severity: string;
  /** Construct path without the stack name prefix, e.g. `App/IngestFunction/Policy/Resource`. */
  path: string;
  stack: string;
}

export interface Synth {
  stacks: TeleReadStacks;
  stateful: Template;
  app: Template;
  violations: Violation[];
}

/**
 * Synthesize TeleRead into a temp dir without bundling (asset hashes only; fast), optionally with the
 * nag packs and a given acknowledgment register, and collect the validation report's violations.
 */
export function synth(props: Partial<TeleReadProps> & { register?: readonly NagAcknowledgment[] } = {}, opts: { bundle?: boolean } = {}): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'teleread-cdk-'));
  try {
    const app = new App({
      outdir,
      context: {
        '@aws-cdk/core:defaultCrossStackReferences': 'strong',
        ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      },
    });
    const stacks = buildTeleRead(app, { stage: 'test', env: { region: 'ap-southeast-1', account: '123456789012' }, ...props, nag: false });
    if (props.nag !== false) {
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
      applyNagAcknowledgments(stacks, props.register);
    }
    let failed = false;
    try {
      app.synth();
    } catch {
      failed = true;
    }
    const violations: Violation[] = [];
    if (existsSync(join(outdir, 'validation-report.json')) || failed) try {
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
      };
      for (const p of report.pluginReports) {
          for (const v of p.violations) {
          for (const c of v.violatingConstructs) {
            const [stack, ...rest] = c.constructPath.split('/');
            violations.push({ rule: v.ruleName, severity: v.severity, path: rest.join('/'), stack: stack! });
          }
        }
      }
    } catch (e) {
      // No report at all: nothing was validated or nothing was found; a failed synth without one is a real error.
      if (failed) throw e;
    }
    const template = (name: string) => Template.fromJSON(JSON.parse(readFileSync(join(outdir, `${name}.template.json`), 'utf8')) as Record<string, unknown>);
    return { stacks, stateful: template(stacks.stateful.stackName), app: template(stacks.app.stackName), violations };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
