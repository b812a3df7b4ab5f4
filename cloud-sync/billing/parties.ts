import type { z } from 'zod';
import { TesseraError } from '../../shared/platform/errors.js';
import { describeIssues } from '../../shared/platform/validation.js';
import {
  BillingAccount,
  Buyer,
  BuyerSetting,
  Seller,
  SellerSetting,
  type BuyerEntry,
} from '../../shared/protocol/api/hub-billing.js';
import type { Account } from '../hub/auth/account.js';
import type { Sql } from '../hub/db.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

/** Records an operator's change in the audit log, inside the change's transaction (hub/admin/audit.ts). */
export type AuditChange = (
  tx: Sql,
  actor: Account,
  action: 'create' | 'update' | 'delete',
  entity: 'seller' | 'buyer' | 'credit-note',
  id: string,
  before: unknown,
  after: unknown,
) => Promise<void>;

/** Who an invoice is from and to, as the hub knows them now (invoices freeze a copy). */
export interface Parties {
  seller: Seller | undefined;
  buyers: ReadonlyMap<string, Buyer>;
}

/**
 * The seller setting and the buyers' identities, kept at the hub only (tables `billing_seller`,
 * `billing_buyers`; never in the directory the sites get). A close freezes them into each
 * invoice; changing them later changes no frozen invoice.
 */
export class BillingParties {
  constructor(
    private readonly db: Sql,
    private readonly now: () => number,
    private readonly audit?: AuditChange,
  ) {}

  async seller(q: Sql = this.db): Promise<Seller | undefined> {
    const value = await q.value<string>('SELECT value FROM billing_seller WHERE id = 1');
    return value === undefined ? undefined : Seller.parse(JSON.parse(value));
  }

  /** Checks (`SellerSetting`: identifiers compacted and checked) and replaces the seller setting. */
  async setSeller(actor: Account | undefined, input: unknown): Promise<Seller> {
    const seller = checked(SellerSetting, input, 'invalid seller');
    return this.db.transaction(async (tx) => {
      const before = await this.seller(tx);
      await tx.run(
        'INSERT INTO billing_seller (id, value, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [JSON.stringify(seller), this.now()],
      );
      if (actor && this.audit)
        await this.audit(tx, actor, before ? 'update' : 'create', 'seller', 'seller', before ?? null, seller);
      return seller;
    });
  }

  async buyer(account: string, q: Sql = this.db): Promise<Buyer | undefined> {
    const value = await q.value<string>('SELECT value FROM billing_buyers WHERE account = ?', [account]);
    return value === undefined ? undefined : Buyer.parse(JSON.parse(value));
  }

  async buyers(): Promise<BuyerEntry[]> {
    const rows = await this.db.all<{ account: string; value: string }>(
      'SELECT account, value FROM billing_buyers ORDER BY account',
    );
    return rows.map((r) => ({ account: r.account, buyer: Buyer.parse(JSON.parse(r.value)) }));
  }

  /** Checks and sets the buyer identity of `account` (`employer:<id>` or `member:<id>`). */
  async setBuyer(actor: Account | undefined, account: string, input: unknown): Promise<Buyer> {
    const key = checked(BillingAccount, account, 'invalid account');
    const buyer = checked(BuyerSetting, input, 'invalid buyer');
    return this.db.transaction(async (tx) => {
      const before = await this.buyer(key, tx);
      await tx.run(
        'INSERT INTO billing_buyers (account, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [key, JSON.stringify(buyer), this.now()],
      );
      if (actor && this.audit)
        await this.audit(tx, actor, before ? 'update' : 'create', 'buyer', key, before ?? null, buyer);
      return buyer;
    });
  }

  /** Removes the buyer identity of `account`; false when it had none. */
  async deleteBuyer(actor: Account | undefined, account: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const before = await this.buyer(account, tx);
      if (!before) return false;
      await tx.run('DELETE FROM billing_buyers WHERE account = ?', [account]);
      if (actor && this.audit) await this.audit(tx, actor, 'delete', 'buyer', account, before, null);
      return true;
    });
  }

  /** The seller and every buyer, read once for a close or a preview. */
  async all(q: Sql = this.db): Promise<Parties> {
    const rows = await q.all<{ account: string; value: string }>('SELECT account, value FROM billing_buyers');
    return {
      seller: await this.seller(q),
      buyers: new Map(rows.map((r) => [r.account, Buyer.parse(JSON.parse(r.value))])),
    };
  }
}

function checked<S extends z.ZodType>(schema: S, input: unknown, message: string): z.output<S> {
  const parsed = checkUntrusted(schema, input);
  if (!parsed.success) throw new TesseraError('request.invalid', message, describeIssues(parsed.error, input));
  return parsed.data;
}
