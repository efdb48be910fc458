import { Validations, type App, type Environment, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { NAG_ACKNOWLEDGMENTS, type NagAcknowledgment } from './nag-acknowledgments.ts';
import { AppStack, type AppStackProps } from './stacks/app-stack.ts';
import { StatefulStack, type StatefulStackProps } from './stacks/stateful-stack.ts';

export interface TeleReadProps {
  /** Stage name (required): `dev`, `staging`, `prod`, … */
  stage: string;
  env?: Environment;
  stateful?: Omit<StatefulStackProps, 'stage' | 'env'>;
  app?: Omit<AppStackProps, 'stage' | 'env' | 'stateful'>;
  /** Run the cdk-nag packs (default true). */
  nag?: boolean;
}

export interface TeleReadStacks {
  stateful: StatefulStack;
  app: AppStack;
}

/** Find the construct an acknowledgment names, or null. */
export function constructOf(stacks: TeleReadStacks, a: NagAcknowledgment): IConstruct | null {
  let c: IConstruct | undefined = stacks[a.stack];
  for (const part of a.path.split('/').filter(Boolean)) {
    c = c?.node.tryFindChild(part);
    if (!c) return null;
  }
  return c ?? null;
}

/** The id cdk-nag reports (and Validations acknowledges): `Rule` or `Rule[finding]`, `{stateful}` resolved. */
export const acknowledgmentId = (a: NagAcknowledgment, stacks: TeleReadStacks) =>
  a.finding ? `${a.rule}[${a.finding.replaceAll('{stateful}', stacks.stateful.stackName)}]` : a.rule;

/** Apply every acknowledgment of the register; throws if one names a construct that does not exist. */
export function applyNagAcknowledgments(stacks: TeleReadStacks, register: readonly NagAcknowledgment[] = NAG_ACKNOWLEDGMENTS): void {
  for (const a of register) {
    const c = constructOf(stacks, a);
    if (!c && a.optional) continue;
    if (!c) throw new Error(`nag acknowledgment for a missing construct: ${a.stack}/${a.path} (${a.rule})`);
    Validations.of(c).acknowledge({ id: acknowledgmentId(a, stacks), reason: a.reason });
  }
}

/** The TeleRead deployment of one stage: the stateful stack, the app stack, cdk-nag and its register. */
export function buildTeleRead(app: App, props: TeleReadProps): TeleReadStacks {
  if (!/^[a-z][a-z0-9-]{1,15}$/.test(props.stage)) throw new Error(`stage must be 2-16 lower-case letters, digits or dashes, not ${JSON.stringify(props.stage)}`);
  const prefix = `TeleRead-${props.stage}`;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, { ...props.stateful, stage: props.stage, env: props.env });
  const appStack = new AppStack(app, `${prefix}-App`, { ...props.app, stage: props.stage, env: props.env, stateful });
  appStack.addStackDependency(stateful);
  const stacks = { stateful, app: appStack };
  for (const s of [stateful, appStack] as Stack[]) s.tags.setTag('project', 'teleread');
  if (props.nag !== false) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
    applyNagAcknowledgments(stacks);
  }
  return stacks;
}
