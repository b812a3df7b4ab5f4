import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compactIdentifier,
  frenchVatKey,
  frenchVatNumber,
  isForeignVatNumber,
  isFrenchVatNumber,
  isSiren,
  isSiret,
  LA_POSTE_SIREN,
  luhnValid,
  sirenOfVatNumber,
} from '../../shared/platform/legal-identity.js';
import { BuyerSetting, SellerSetting } from '../../shared/protocol/api/hub-billing.js';
import { describeIssues } from '../../shared/platform/validation.js';

/** The Luhn key that completes `body` (a string of digits), computed from the rule's definition. */
function luhnKey(body: string): string {
  for (let key = 0; key <= 9; key++) {
    const digits = [...`${body}${key}`].reverse().map(Number);
    const sum = digits.reduce((t, d, i) => t + (i % 2 === 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
    if (sum % 10 === 0) return String(key);
  }
  throw new Error('unreachable');
}

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));
/** A valid SIREN: 8 digits and their key. */
const siren = digits(8).map((b) => `${b}${luhnKey(b)}`);
/** A valid SIRET outside La Poste: a SIREN, 4 digits, the key of the 13. */
const siret = fc
  .tuple(siren, digits(4))
  .filter(([s]) => s !== LA_POSTE_SIREN)
  .map(([s, nic]) => `${s}${nic}${luhnKey(`${s}${nic}`)}`);
/** Spaces put anywhere in an identifier, as people type them. */
const spaced = (id: string) =>
  fc
    .array(fc.constantFrom('', ' ', '  ', '\u00a0'), { minLength: id.length, maxLength: id.length })
    .map((gaps) => [...id].map((c, i) => `${gaps[i] ?? ''}${c}`).join(''));

describe('SIREN, SIRET and the French VAT number', () => {
  it('accepts known numbers and refuses their typos', () => {
    // Published numbers: the SIRENs in the VAT numbers of large French companies.
    for (const s of ['542107651', '443061841', '303265045', '732829320']) expect(isSiren(s), s).toBe(true);
    expect(isSiren('542 107 651')).toBe(true);
    for (const s of ['542107652', '12345678', '1234567890', '54210765A', '', '542-107-651'])
      expect(isSiren(s), s).toBe(false);
    expect(isFrenchVatNumber('FR13542107651')).toBe(true);
    expect(isFrenchVatNumber('FR 40 303 265 045')).toBe(true);
    expect(isFrenchVatNumber('fr40303265045')).toBe(true);
    expect(isFrenchVatNumber('FR41303265045')).toBe(false); // wrong key
    expect(isFrenchVatNumber('FR40303265046')).toBe(false); // the SIREN's own key is wrong
    expect(isFrenchVatNumber('DE123456789')).toBe(false);
    expect(frenchVatNumber('443061841')).toBe('FR64443061841');
    expect(sirenOfVatNumber('FR 13 542107651')).toBe('542107651');
    expect(isSiret('73282932000074')).toBe(true);
    expect(isSiret('54210765100011')).toBe(true);
    expect(isSiret('732 829 320 00074')).toBe(true);
    expect(isSiret('73282932000075')).toBe(false);
    expect(isSiret('73282932100074')).toBe(false); // the SIREN inside is not one
  });

  it("follows La Poste's rule: for SIREN 356000000, a SIRET whose digits sum to a multiple of 5", () => {
    expect(isSiren(LA_POSTE_SIREN)).toBe(true);
    expect(luhnValid('35600000049837')).toBe(false);
    expect(isSiret('35600000049837')).toBe(true); // 3+5+6+4+9+8+3+7 = 45
    expect(isSiret('35600000049838')).toBe(false); // 46, and no Luhn key either
    expect(isSiret('35600000000048')).toBe(true); // a Luhn key is accepted too
    // The rule is La Poste's alone: another SIREN's SIRET summing to a multiple of 5 still needs its key.
    expect(isSiret('73282932000010')).toBe(false);
  });

  it('accepts every SIREN and SIRET with its Luhn key, however spaced, and refuses any one digit changed', () => {
    fc.assert(
      fc.property(siren, fc.nat({ max: 8 }), fc.integer({ min: 1, max: 9 }), (s, at, by) => {
        expect(isSiren(s)).toBe(true);
        const typo = `${s.slice(0, at)}${(Number(s[at]) + by) % 10}${s.slice(at + 1)}`;
        expect(isSiren(typo)).toBe(false);
      }),
    );
    fc.assert(
      fc.property(
        siret.chain((s) => fc.tuple(fc.constant(s), spaced(s))),
        fc.nat({ max: 13 }),
        fc.integer({ min: 1, max: 9 }),
        ([s, typed], at, by) => {
          expect(isSiret(s)).toBe(true);
          expect(isSiret(typed)).toBe(true);
          expect(compactIdentifier(typed)).toBe(s);
          const typo = `${s.slice(0, at)}${(Number(s[at]) + by) % 10}${s.slice(at + 1)}`;
          expect(isSiret(typo)).toBe(false);
        },
      ),
    );
  });

  it('refuses two neighbouring digits swapped (but 0 and 9, which Luhn cannot tell apart)', () => {
    fc.assert(
      fc.property(siren, fc.nat({ max: 7 }), (s, at) => {
        const [a, b] = [s[at] ?? '', s[at + 1] ?? ''];
        fc.pre(a !== b && !(new Set([a, b]).has('0') && new Set([a, b]).has('9')));
        expect(isSiren(`${s.slice(0, at)}${b}${a}${s.slice(at + 2)}`)).toBe(false);
      }),
    );
  });

  it('gives each SIREN one VAT key, (12 + 3 × (SIREN mod 97)) mod 97, and refuses every other key', () => {
    fc.assert(
      fc.property(siren, fc.integer({ min: 0, max: 99 }), (s, key) => {
        const expected = (12 + 3 * (Number(s) % 97)) % 97;
        expect(frenchVatKey(s)).toBe(String(expected).padStart(2, '0'));
        const vat = `FR${String(key).padStart(2, '0')}${s}`;
        expect(isFrenchVatNumber(vat)).toBe(key === expected);
        expect(isForeignVatNumber(vat)).toBe(false);
      }),
    );
  });
});

const address = { lines: ['12 rue Blatin'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' };
const seller = {
  name: 'Tessera Coworking',
  legalForm: 'SAS',
  siren: '732 829 320',
  siret: '732 829 320 00074',
  vatNumber: 'FR 44 732829320',
  address,
  latePenaltyPercent: 12.5,
};
const pathsOf = (schema: typeof SellerSetting | typeof BuyerSetting, input: unknown) => {
  const r = schema.safeParse(input);
  return r.success ? [] : describeIssues(r.error, input).map((d) => d.path);
};

describe('the seller and buyer settings', () => {
  it('compact and keep a good seller, with its default payment terms', () => {
    expect(SellerSetting.parse(seller)).toMatchObject({
      siren: '732829320',
      siret: '73282932000074',
      vatNumber: 'FR44732829320',
      paymentTermsDays: 30,
    });
  });

  it('refuse a bad number at its path', () => {
    expect(pathsOf(SellerSetting, { ...seller, siren: '732829321' })).toContain('siren');
    expect(pathsOf(SellerSetting, { ...seller, siret: '73282932000075' })).toEqual(['siret']);
    expect(pathsOf(SellerSetting, { ...seller, siret: '54210765100011' })).toEqual(['siret']); // another company's
    expect(pathsOf(SellerSetting, { ...seller, vatNumber: 'FR45732829320' })).toEqual(['vatNumber']);
    expect(pathsOf(SellerSetting, { ...seller, vatNumber: 'FR13542107651' })).toEqual(['vatNumber']);
    expect(pathsOf(SellerSetting, { ...seller, vatNumber: undefined })).toEqual(['vatExemption']);
    expect(
      pathsOf(SellerSetting, {
        ...seller,
        vatNumber: undefined,
        vatExemption: 'TVA non applicable, art. 293 B du CGI',
      }),
    ).toEqual([]);
  });

  it('want a SIREN of a business in France, and none of a consumer', () => {
    const business = { kind: 'business', name: 'Acme SA', address, siren: '542107651', vatNumber: 'FR13542107651' };
    expect(BuyerSetting.parse(business)).toMatchObject({ language: 'fr', siren: '542107651' });
    expect(pathsOf(BuyerSetting, { ...business, siren: undefined, vatNumber: undefined })).toEqual(['siren']);
    expect(pathsOf(BuyerSetting, { ...business, vatNumber: 'FR44732829320' })).toEqual(['vatNumber']);
    expect(pathsOf(BuyerSetting, { ...business, siret: '73282932000074' })).toEqual(['siret']);
    // A business abroad: its own VAT number, no SIREN.
    const abroad = { kind: 'business', name: 'Acme GmbH', address: { ...address, country: 'DE' } };
    expect(pathsOf(BuyerSetting, { ...abroad, vatNumber: 'DE 123456789' })).toEqual([]);
    expect(pathsOf(BuyerSetting, { ...abroad, vatNumber: 'DE' })).toEqual(['vatNumber']);
    const consumer = { kind: 'consumer', name: 'Ana Martin', address, language: 'en' };
    expect(pathsOf(BuyerSetting, consumer)).toEqual([]);
    expect(pathsOf(BuyerSetting, { ...consumer, siren: '542107651' })).toEqual(['siren']);
  });
});
