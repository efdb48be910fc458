import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['shared', 'functions', 'local', 'infra', 'web/src', 'bench', 'bin', 'sim', 'gateway'];

function files(dir: string): string[] {
  const abs = join(ROOT, dir);
  try {
    statSync(abs);
  } catch {
    return [];
  }
  return readdirSync(abs, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' || d.name === 'dist' || d.name === 'cdk.out' ? [] : files(p);
    return /\.(m?ts|tsx|mjs|js)$/.test(d.name) ? [p] : [];
  });
}

interface Import {
  from: string;
  spec: string;
  /** Repo-relative target for relative imports; the package name otherwise. */
  target: string;
}

function importsOf(file: string): Import[] {
  const src = readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [
    ...src.matchAll(/\b(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...src.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...src.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((spec) => ({
    from: file,
    spec,
    target: spec.startsWith('.') ? relative(ROOT, resolve(dirname(join(ROOT, file)), spec)) : spec,
  }));
}

const all = SOURCE_DIRS.flatMap(files);
const imports = all.flatMap(importsOf);
const under = (p: string, dir: string) => p === dir || p.startsWith(dir + '/');
const pkg = (i: Import) => (i.spec.startsWith('.') ? null : i.spec.startsWith('@') ? i.spec.split('/').slice(0, 2).join('/') : i.spec.split('/')[0]!);

function violations(fromDir: string, allowed: (i: Import) => boolean): string[] {
  return imports.filter((i) => under(i.from, fromDir) && !allowed(i)).map((i) => `${i.from} imports ${i.spec}`);
}

describe('the dependency rule of DESIGN.md', () => {
  it('finds the source tree (the rule checks something)', () => {
    expect(all.filter((f) => under(f, 'shared/domain')).length).toBeGreaterThan(2);
    expect(imports.length).toBeGreaterThan(50);
  });

  it('domain is pure: imports only domain', () => {
    expect(violations('shared/domain', (i) => i.spec.startsWith('.') && under(i.target, 'shared/domain'))).toEqual([]);
  });

  it('ports import only domain, contracts and ports (no SDK, no adapter, no node built-ins)', () => {
    expect(
      violations('shared/ports', (i) => i.spec.startsWith('.') && ['shared/domain', 'shared/contracts', 'shared/ports'].some((d) => under(i.target, d))),
    ).toEqual([]);
  });

  it('application imports only domain, ports, contracts and application', () => {
    expect(
      violations(
        'shared/application',
        (i) => i.spec.startsWith('.') && ['shared/domain', 'shared/contracts', 'shared/ports', 'shared/application'].some((d) => under(i.target, d)),
      ),
    ).toEqual([]);
  });

  it('contracts import only zod, domain and contracts (the web UI imports them)', () => {
    expect(
      violations('shared/contracts', (i) => i.spec === 'zod' || (i.spec.startsWith('.') && ['shared/domain', 'shared/contracts'].some((d) => under(i.target, d)))),
    ).toEqual([]);
  });

  it('adapters/aws and adapters/local never import each other', () => {
    expect(violations('shared/adapters/aws', (i) => !under(i.target, 'shared/adapters/local'))).toEqual([]);
    expect(violations('shared/adapters/local', (i) => !under(i.target, 'shared/adapters/aws'))).toEqual([]);
  });

  it('no @aws-sdk in the local process; no SQLite driver outside the local adapters and tools', () => {
    const awsAllowed = ['shared/adapters/aws', 'functions', 'infra'];
    expect(imports.filter((i) => pkg(i) === '@aws-sdk' || i.spec.startsWith('@aws-sdk/')).filter((i) => !awsAllowed.some((d) => under(i.from, d))).map((i) => i.from)).toEqual([]);
    expect(imports.filter((i) => i.spec === 'better-sqlite3' && !under(i.from, 'shared/adapters/local')).map((i) => i.from)).toEqual([]);
    // A Lambda entry never reaches the local adapters.
    expect(imports.filter((i) => /\.lambda\.ts$/.test(i.from) && under(i.target, 'shared/adapters/local')).map((i) => i.from)).toEqual([]);
  });

  it('only shared/dicom touches dicom-parser', () => {
    expect(imports.filter((i) => i.spec === 'dicom-parser' && !under(i.from, 'shared/dicom')).map((i) => i.from)).toEqual([]);
  });

  it('web/ imports only shared/contracts from the project', () => {
    expect(violations('web/src', (i) => !i.spec.startsWith('.') || !under(i.target, 'shared') || under(i.target, 'shared/contracts'))).toEqual([]);
  });

  it('process.env is read only at entry points', () => {
    const entry = (f: string) =>
      f === 'local/main.ts' || f === 'local/cli.ts' || /^functions\/.*\.lambda\.ts$/.test(f) || under(f, 'infra/bin') || under(f, 'bench') || under(f, 'bin') || under(f, 'sim');
    const readers = all.filter((f) => /\bprocess\.env\b/.test(readFileSync(join(ROOT, f), 'utf8').replace(/\/\/.*$/gm, '')));
    expect(readers.filter((f) => !entry(f))).toEqual([]);
  });
});
