#!/usr/bin/env node
// Launcher for the `teleread` command: registers tsx in this process, then runs local/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../local/cli.ts', import.meta.url).href);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 70;
}
