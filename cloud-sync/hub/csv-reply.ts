import type { FastifyReply } from 'fastify';

/**
 * Answers a CSV file (shared/platform/csv.ts wrote it, in the dialect asked) as the attachment
 * `fileName`: every CSV export of the hub goes out this way.
 */
export function sendCsvFile(reply: FastifyReply, fileName: string, text: string): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${fileName}"`)
    .send(text);
}
