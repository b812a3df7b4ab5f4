/**
 * The network's operator as the seller of the hub tests' invoices: a French SAS whose SIREN, SIRET
 * and VAT number pass their checks, with the penalty rate its invoices state.
 */
export const TEST_SELLER = {
  name: 'Tessera Coworking',
  legalForm: 'SAS',
  siren: '732829320',
  siret: '73282932000074',
  vatNumber: 'FR44732829320',
  address: { lines: ['12 rue Blatin'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  latePenaltyPercent: 12.5,
};
