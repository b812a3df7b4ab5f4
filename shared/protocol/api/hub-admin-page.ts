import { z } from 'zod';

/**
 * The paging every admin list shares: `offset` and `limit` in the query (strings on the wire,
 * numbers once parsed), and an answer of one page of `items` with how many match in all.
 */
export const PAGE_QUERY = {
  offset: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
};

/** One page of `item`, as every admin list answers it. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    /** How many match the filters, all pages together. */
    total: z.number().int().nonnegative(),
    offset: z.number().int().nonnegative(),
    limit: z.number().int().min(1),
  });

/** A problem in an answer that lists them (a CSV line and column, a field): where, and what. */
export const Problem = z.strictObject({ path: z.string(), message: z.string() });
export type Problem = z.infer<typeof Problem>;
