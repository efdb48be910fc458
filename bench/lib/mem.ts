/** Peak resident set size as the kernel records it (Linux), and a way to reset that mark. */
import { readFileSync, writeFileSync } from 'node:fs';

export function vmHwmBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Reset VmHWM to the current RSS (writes 5 to /proc/self/clear_refs); false if not allowed. */
export function resetHwm(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}
