import { z } from 'zod';

/** A badge UID as stored and sent once normalised: 4 to 10 bytes in upper-case hex, no separators. */
export const NORMALISED_UID_PATTERN = /^([0-9A-F]{2}){4,10}$/;

/**
 * A badge UID as we store it: upper-case hex, no separators, 4 to 10 bytes (ISO 14443 UIDs
 * are 4, 7 or 10 bytes). Accepts the usual spellings: `04:a2:...`, `04 A2 ...`, `04a2...`.
 */
export const BadgeUid = z
  .string()
  .transform((s) => s.replace(/[\s:-]/g, '').toUpperCase())
  .pipe(
    z.string().regex(NORMALISED_UID_PATTERN, 'expected a badge UID of 4 to 10 bytes in hex, e.g. "04A2B3C4D5E6F7"'),
  );
export type BadgeUid = z.infer<typeof BadgeUid>;

export function normalizeUid(raw: string): string | undefined {
  const r = BadgeUid.safeParse(raw);
  return r.success ? r.data : undefined;
}

/** What logs and events show of a badge: never the whole UID (docs/security.md). */
export function maskUid(uid: string): string {
  const clean = uid.replace(/[\s:-]/g, '').toUpperCase();
  return `…${clean.slice(-4)}`;
}
