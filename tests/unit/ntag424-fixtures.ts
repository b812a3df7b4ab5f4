import { expect } from 'vitest';
import type { Transmit } from '../../edge/badges/apdu.js';

/** Bytes from hex text, spaces allowed (as the NXP application notes print them). */
export const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');
/** Bytes as upper-case hex text. */
export const upper = (bytes: Buffer) => bytes.toString('hex').toUpperCase();

/** A card that answers a fixed script, checking each command byte for byte. */
export function scripted(steps: Array<[command: string, response: string]>): Transmit & { remaining: () => number } {
  let next = 0;
  const transmit = async (apdu: Buffer) => {
    const step = steps[next++];
    if (!step) throw new Error(`unexpected APDU ${upper(apdu)}`);
    expect(upper(apdu)).toBe(step[0].replace(/\s/g, ''));
    return hex(step[1]);
  };
  return Object.assign(transmit, { remaining: () => steps.length - next });
}
