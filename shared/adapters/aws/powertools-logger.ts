import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../../ports/logger.ts';

/** The Logger port on Powertools Logger (structured JSON to CloudWatch, with the Lambda context). */
export class PowertoolsLoggerAdapter implements Logger {
  constructor(private readonly log: PowertoolsLogger) {}
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log.info(msg, fields ?? {});
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log.warn(msg, fields ?? {});
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log.error(msg, fields ?? {});
  }
}
