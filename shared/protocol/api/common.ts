import { z } from 'zod';
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
