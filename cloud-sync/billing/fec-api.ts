import type { FastifyInstance } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { BillingFecRoutes as Routes } from '../../shared/protocol/api/hub-billing-fec.js';
import { operatorOnly } from '../hub/auth/index.js';
import { fecRange, type BillingAccounting } from './accounting.js';

const operator = { preValidation: operatorOnly };

/** The accounting export (docs/billing.md "Accounting exports (FEC)"), for network operators only. */
export function registerFecRoutes(app: FastifyInstance, accounting: BillingAccounting): void {
  serve(
    app,
    Routes.fec,
    async (req, reply) => {
      const { separator, siren } = req.query;
      const file = await accounting.fec(fecRange(req.query), { separator: separator === 'pipe' ? '|' : '\t', siren });
      return reply
        .header('content-type', 'text/plain; charset=iso-8859-15')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .send(file.bytes);
    },
    operator,
  );
  serve(app, Routes.accounts, () => accounting.accounts(), operator);
  serve(app, Routes.setAccounts, (req) => accounting.setAccounts(req.body), operator);
}
