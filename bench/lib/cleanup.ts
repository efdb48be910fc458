/**
 * Everything a benchmark starts that must not outlive it: child processes, temp directories,
 * closers. `cleanupAll` runs them in reverse order; run.ts calls it in `finally` and on signals.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Closer = { name: string; close: () => Promise<void> | void };
const closers: Closer[] = [];

export function onCleanup(name: string, close: () => Promise<void> | void): () => Promise<void> {
  const c: Closer = { name, close };
  closers.push(c);
  return async () => {
    const i = closers.indexOf(c);
    if (i >= 0) closers.splice(i, 1);
    await close();
  };
}

/** A fresh temp directory removed at cleanup (or earlier through the returned function). */
export function tempDir(prefix: string): { path: string; remove: () => Promise<void> } {
  const path = mkdtempSync(join(tmpdir(), `teleread-bench-${prefix}-`));
  const remove = onCleanup(`rm ${path}`, () => rmSync(path, { recursive: true, force: true }));
  return { path, remove };
}

/** Kill a child we started (by its own handle, never by name) and wait for it to exit. */
export function trackChild(name: string, child: ChildProcess): () => Promise<void> {
  return onCleanup(name, () => killChild(child));
}

export function killChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function cleanupAll(): Promise<void> {
  while (closers.length) {
    const c = closers.pop()!;
    try {
      await c.close();
    } catch (e) {
      console.error(`cleanup ${c.name} failed:`, (e as Error)?.message ?? e);
    }
  }
}
