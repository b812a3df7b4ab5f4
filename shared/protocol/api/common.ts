import { z } from 'zod';
import { CSV_DIALECTS } from '../../platform/csv.js';
import { SITE_ID_PATTERN } from '../topics.js';

export { ErrorEnvelope } from '../../platform/http-errors.js';
export { defineRoute } from '../../platform/api-contract.js';

/** A site id in a path or query: what MQTT topics allow. */
export const SiteId = z.string().regex(SITE_ID_PATTERN);
export const SiteParams = z.strictObject({ site: SiteId });

/** The OpenAPI document of an API, as served: JSON, checked by its own validator in tests. */
export const OpenApiDocument = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
export type OpenApiDocument = z.infer<typeof OpenApiDocument>;

/**
 * `?dialect=` of a CSV export (shared/platform/csv.ts): `rfc4180` (default: commas, decimal
 * point) or `excel-fr` (semicolons, decimal comma, a UTF-8 BOM: what Excel in French opens as is).
 */
export const CsvDialectParam = z
  .enum(CSV_DIALECTS, { error: `expected one of ${CSV_DIALECTS.join(', ')}` })
  .default('rfc4180');
