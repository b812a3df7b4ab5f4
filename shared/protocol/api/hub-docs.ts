import { defineRoute, OpenApiDocument } from './common.js';

/** The hub's API documents, made from the route contracts (cloud-sync/hub-process/api-docs.ts). */
export const HubDocsRoutes = {
  document: defineRoute({
    method: 'GET',
    url: '/docs/openapi.json',
    operationId: 'getHubOpenApi',
    tags: ['docs'],
    summary: 'This documentation, OpenAPI 3.1',
    response: { 200: OpenApiDocument },
  }),
  page: defineRoute({
    method: 'GET',
    url: '/docs',
    operationId: 'getHubDocsPage',
    tags: ['docs'],
    summary: 'This documentation as a page',
    response: {},
    produces: { 'text/html': { description: 'each operation with its summary and schemas' } },
  }),
};
