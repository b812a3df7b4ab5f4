/**
 * French legal identifiers as an invoice prints them: SIREN (the company, 9 digits), SIRET (one
 * of its establishments, 14 digits: the SIREN and a 5-digit NIC) and the intra-community VAT
 * number (`FR`, a 2-digit key, the SIREN). Pure checks, no lookup in any register: a number that
 * passes is well formed, not necessarily registered.
 */

/** The SIREN of La Poste, whose establishments' SIRETs follow a rule of their own (below). */
export const LA_POSTE_SIREN = '356000000';

/** An identifier as typed, compacted: spaces (also non-breaking ones) removed, letters upper-case. */
export const compactIdentifier = (raw: string): string => raw.replace(/[\s\u00a0\u202f]/g, '').toUpperCase();

/**
 * The Luhn check over a string of digits: from the right, every second digit doubled (9
 * subtracted when that makes two digits), the sum a multiple of 10.
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** A SIREN: 9 digits passing the Luhn check (compacted first). */
export function isSiren(raw: string): boolean {
  const s = compactIdentifier(raw);
  return /^\d{9}$/.test(s) && luhnValid(s);
}

/**
 * A SIRET: 14 digits whose first 9 are a valid SIREN, and the whole passes the Luhn check; for
 * La Poste (SIREN 356000000), whose many establishments outran the Luhn key, the sum of the 14
 * digits being a multiple of 5 is accepted instead.
 */
export function isSiret(raw: string): boolean {
  const s = compactIdentifier(raw);
  if (!/^\d{14}$/.test(s) || !isSiren(s.slice(0, 9))) return false;
  if (luhnValid(s)) return true;
  return s.startsWith(LA_POSTE_SIREN) && digitSum(s) % 5 === 0;
}

const digitSum = (digits: string): number => [...digits].reduce((t, c) => t + Number(c), 0);

/** The 2-digit key of a French VAT number for `siren`: (12 + 3 × (SIREN mod 97)) mod 97. */
export function frenchVatKey(siren: string): string {
  return String((12 + 3 * (Number(siren) % 97)) % 97).padStart(2, '0');
}

/** The French VAT number of a SIREN: `FR` + key + SIREN. */
export const frenchVatNumber = (siren: string): string => `FR${frenchVatKey(siren)}${siren}`;

/** A French VAT number: `FR`, the key of the SIREN that follows, a valid SIREN (compacted first). */
export function isFrenchVatNumber(raw: string): boolean {
  const s = compactIdentifier(raw);
  const m = /^FR(\d{2})(\d{9})$/.exec(s);
  return m !== null && isSiren(m[2] ?? '') && m[1] === frenchVatKey(m[2] ?? '');
}

/** The SIREN inside a French VAT number, or undefined for another form. */
export function sirenOfVatNumber(raw: string): string | undefined {
  const m = /^FR\d{2}(\d{9})$/.exec(compactIdentifier(raw));
  return m?.[1];
}

/**
 * Another EU member state's VAT number as VIES writes it: its 2-letter prefix and 2 to 12 letters,
 * digits, `+` or `*`. Only its form is checked: each state has its own key.
 */
export const isForeignVatNumber = (raw: string): boolean => {
  const s = compactIdentifier(raw);
  return !s.startsWith('FR') && /^[A-Z]{2}[0-9A-Z+*]{2,12}$/.test(s);
};
