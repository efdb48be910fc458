/**
 * An Orthanc of our own for the ingest comparison: Debian's `Orthanc` binary started on loopback
 * with a generated JSON configuration and a temporary storage/index directory, stopped by its own
 * PID. Never the Debian service. The HTTP port is picked free; the DICOM (C-STORE) server is off.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { killChild, onCleanup, tempDir } from './cleanup.ts';
import { httpRequest } from './client.ts';

const CANDIDATES = ['/usr/sbin/Orthanc', '/usr/bin/Orthanc', '/usr/local/bin/Orthanc'];

/** Path of the Orthanc binary, or null. `ORTHANC_BIN` overrides. */
export function findOrthanc(): string | null {
  const env = process.env.ORTHANC_BIN;
  if (env) return existsSync(env) ? env : null;
  for (const c of CANDIDATES) if (existsSync(c)) return c;
  try {
    const p = execFileSync('sh', ['-c', 'command -v Orthanc'], { encoding: 'utf8' }).trim();
    return p || null;
  } catch {
    return null;
  }
}

export function orthancVersion(bin: string): string {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

export const ORTHANC_MISSING =
  'Orthanc is not installed: the ingest comparison needs it (Debian: `apt-get install -y orthanc`; ' +
  'or set ORTHANC_BIN). The benchmark starts its own Orthanc on loopback; the Debian service is not used.';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface OrthancProcess {
  url: string;
  pid: number;
  dir: string;
  version: string;
  /** CPU time (user+system, ms) of the Orthanc process so far, from /proc/<pid>/stat. */
  cpuMs(): number;
  /** Current and peak RSS (VmRSS, VmHWM) of the Orthanc process. */
  rss(): { rss: number; hwm: number };
  stop(): Promise<void>;
}

function procStatus(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

export function procCpuMs(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after ")": state(0) … utime(11) stime(12), in clock ticks (100/s on Linux)
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export async function startOrthanc(bin: string): Promise<OrthancProcess> {
  const dir = tempDir('orthanc');
  const port = await freePort();
  const config = {
    Name: 'teleread-bench',
    StorageDirectory: join(dir.path, 'storage'),
    IndexDirectory: join(dir.path, 'index'),
    StorageCompression: false,
    // Durable like TeleRead (which fsyncs every upload and commits SQLite with synchronous=FULL).
    SyncStorageArea: true,
    HttpServerEnabled: true,
    HttpPort: port,
    HttpDescribeErrors: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: false,
    DicomPort: 0,
    Plugins: [],
    SaveJobs: false,
    StableAge: 3600,
    LuaScripts: [],
  };
  const cfgPath = join(dir.path, 'orthanc.json');
  writeFileSync(cfgPath, JSON.stringify(config, null, 2));
  const child = spawn(bin, [cfgPath], { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString();
  });
  const untrack = onCleanup(`orthanc ${child.pid}`, () => killChild(child, 5000));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited with ${child.exitCode} at start:\n${stderr.slice(-2000)}`);
    try {
      const r = await httpRequest(`${url}/system`, 'GET');
      if (r.status === 200) break;
    } catch {}
    if (Date.now() - t0 > 30_000) {
      await untrack();
      throw new Error(`Orthanc did not answer on ${url} within 30 s:\n${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const sys = (await httpRequest(`${url}/system`, 'GET')).json as { Version?: string };
  const pid = child.pid!;
  return {
    url,
    pid,
    dir: dir.path,
    version: sys?.Version ?? orthancVersion(bin),
    cpuMs: () => procCpuMs(pid),
    rss: () => procStatus(pid),
    async stop() {
      await untrack(); // SIGTERM by its own handle (pid), SIGKILL after 5 s
      await dir.remove();
    },
  };
}

/** POST /instances with the raw DICOM bytes; returns the parsed answer. */
export async function orthancStore(url: string, bytes: Uint8Array): Promise<{ status: number; orthancStatus: string; doneAt: number }> {
  const r = await httpRequest(`${url}/instances`, 'POST', { headers: { 'content-type': 'application/dicom' }, body: bytes });
  if (r.status !== 200) throw new Error(`Orthanc POST /instances: ${r.status} ${r.text.slice(0, 300)}`);
  return { status: r.status, orthancStatus: String(r.json?.Status ?? ''), doneAt: r.doneAt };
}
