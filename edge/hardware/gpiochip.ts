// A default import on purpose: calls go through the `fs` object at run time, the same one onoff
// uses, so a test's in-process fake /sys/class/gpio (tests/fixtures/fake-sysfs.ts) sees them too.
import fs from 'node:fs';
import { join } from 'node:path';

/** Where the kernel's sysfs GPIO interface lives; onoff hard-codes the same path. */
export const GPIO_SYSFS_ROOT = '/sys/class/gpio';

/**
 * Labels of the SoC GPIO controllers whose line numbers are the BCM numbers, best first:
 * Pi 5 (RP1), Pi 4 (BCM2711), Pi 0-3 (BCM2835). Bookworm kernels (6.6+) put them at a base
 * other than 0 (gpiochip512 on a Pi 4, gpiochip571 on a Pi 5), older kernels at 0.
 */
export const PI_GPIO_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface GpioChipInfo {
  /** The folder name, e.g. `gpiochip512`. */
  name: string;
  /** Kernel number of the chip's line 0: kernel line = base + BCM line. */
  base: number;
  label: string;
  /** Number of lines the chip has. */
  ngpio: number;
}

/** Every `gpiochip*` under the root that has a readable label and numeric base and ngpio. */
export function listGpioChips(opts: { sysfsRoot?: string } = {}): GpioChipInfo[] {
  const root = opts.sysfsRoot ?? GPIO_SYSFS_ROOT;
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const chips: GpioChipInfo[] = [];
  for (const name of names.filter((n) => /^gpiochip\d+$/.test(n)).sort(byNumber)) {
    const read = (file: string): string | undefined => {
      try {
        return fs.readFileSync(join(root, name, file), 'utf8').trim();
      } catch {
        return undefined;
      }
    };
    const label = read('label');
    const base = toCount(read('base'));
    const ngpio = toCount(read('ngpio'));
    if (label === undefined || base === undefined || ngpio === undefined) continue;
    chips.push({ name, base, label, ngpio });
  }
  return chips;
}

/**
 * The chip that carries the Raspberry Pi's BCM lines, chosen by label (PI_GPIO_LABELS order).
 * With no such label, a lone chip is taken (a board with one controller is unambiguous); with
 * several unknown chips, none: guessing could drive the wrong pins. Pure: it depends only on
 * the tree it reads.
 */
export function findGpioBase(opts: { sysfsRoot?: string } = {}): GpioChipInfo | undefined {
  return pickGpioChip(listGpioChips(opts));
}

export function pickGpioChip(chips: readonly GpioChipInfo[]): GpioChipInfo | undefined {
  for (const label of PI_GPIO_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  return chips.length === 1 ? chips[0] : undefined;
}

function toCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

function byNumber(a: string, b: string): number {
  return Number(a.slice('gpiochip'.length)) - Number(b.slice('gpiochip'.length));
}
