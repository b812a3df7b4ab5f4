import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { peakRssMb, vmRssMb } from '../../bench/process-memory.js';

/** The compiled helper (dist/, built before the tests), as a measuring child of a bench imports it. */
const HELPER = pathToFileURL(join(process.cwd(), 'dist', 'bench', 'process-memory.js')).href;

describe('a bench process measures its own memory', () => {
  it('a child spawned by a process holding 256 MB more reports its own peak, not its parent’s', () => {
    const held = Buffer.alloc(256 * 2 ** 20, 1); // every page written: resident in this process
    const parentMb = vmRssMb();
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(HELPER)}); console.log(JSON.stringify({ peak: m.peakRssMb(), maxRss: process.resourceUsage().maxRSS / 1024 }));`,
      ],
      { encoding: 'utf8' },
    );
    expect(child.status, child.stderr).toBe(0);
    const { peak, maxRss } = JSON.parse(child.stdout) as { peak: number; maxRss: number };
    expect(held[held.length - 1]).toBe(1);
    expect(parentMb).toBeGreaterThan(256);
    // What Linux's getrusage gives the child: at least what the parent held at the fork.
    expect(maxRss).toBeGreaterThan(256);
    // The child's own high-water mark: a bare Node process, far below what its parent holds.
    expect(peak).toBeLessThan(parentMb - 128);
    expect(peak).toBeGreaterThan(10);
  });

  it("this process's peak is at least what it holds now, and its RSS reads the same by its pid", () => {
    expect(peakRssMb()).toBeGreaterThanOrEqual(vmRssMb() - 1);
    expect(Math.abs(vmRssMb(process.pid) - vmRssMb())).toBeLessThan(16);
    // A process that does not exist: no figure, not this one's.
    expect(vmRssMb(2 ** 22 + 1)).toBeNaN();
  });
});
