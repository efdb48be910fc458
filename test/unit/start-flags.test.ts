import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../local/node-flags.ts';

describe('the benchmark and the simulation run the server as npm start does', () => {
  it('npm start passes exactly the V8 flags the benchmark gives its server child', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const start = pkg.scripts['start']!.split(/\s+/);
    expect(start[0]).toBe('tsx');
    expect(start.at(-1)).toBe('local/main.ts');
    expect(start.slice(1, -1)).toEqual(SERVER_NODE_FLAGS);
  });
});
