import type { Logger } from '../../ports/logger.ts';

/** JSON lines on a writable (stdout by default). Callers pass ids and figures only; see Logger. */
export class JsonLogger implements Logger {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l)) {}
  private out(level: string, msg: string, fields?: Record<string, unknown>) {
    this.write(JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields }) + '\n');
  }
  info(msg: string, fields?: Record<string, unknown>) {
    this.out('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>) {
    this.out('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>) {
    this.out('error', msg, fields);
  }
}
