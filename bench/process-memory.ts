import { readFileSync } from 'node:fs';

/** A field of a process's /proc status in MB (Linux), or undefined where there is none. */
function statusMb(field: 'VmRSS' | 'VmHWM', pid: number | 'self' = 'self'): number | undefined {
  try {
    const line = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line?.[1] === undefined ? undefined : Number(line[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** The resident memory of a process now (this one unless given), in MB; NaN for another process without /proc. */
export function vmRssMb(pid: number | 'self' = 'self'): number {
  return statusMb('VmRSS', pid) ?? (pid === 'self' ? process.memoryUsage().rss / 2 ** 20 : NaN);
}

/**
 * The most this process has held resident since it started, in MB: VmHWM, the high-water mark of
 * its own address space. Not `process.resourceUsage().maxRSS`: Linux carries that across the
 * fork and exec that start a child, so a child's figure is at least what its parent held when it
 * was spawned (a child of a 400 MB parent reports 404 MB for its own 39 MB). Where there is no
 * /proc, that figure is all there is.
 */
export function peakRssMb(): number {
  return statusMb('VmHWM') ?? process.resourceUsage().maxRSS / 1024;
}
