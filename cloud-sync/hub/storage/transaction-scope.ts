import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Knows whether the code running is inside a transaction of one database, so that a statement
 * sent to the database itself from there fails at once, naming the mistake: on SQLite it would
 * wait for the transaction it is part of, forever; on PostgreSQL it would run outside it.
 * A timer or callback started inside a transaction and run after its end is outside it.
 */
export class TransactionScope {
  private readonly storage = new AsyncLocalStorage<{ open: boolean }>();

  constructor(private readonly db: { readonly name: string }) {}

  /** Runs `fn` inside the scope; it is left when the promise `fn` returns settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const state = { open: true };
    try {
      return await this.storage.run(state, fn);
    } finally {
      state.open = false;
    }
  }

  inside(): boolean {
    return this.storage.getStore()?.open === true;
  }

  misuse(what: 'statement' | 'transaction'): TypeError {
    return new TypeError(
      `a ${what} on the database ${this.db.name} from inside one of its transactions: use the transaction's handle`,
    );
  }
}
