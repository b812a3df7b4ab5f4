/**
 * Keys known ahead (accounts with late corrections), handed out in their place among keys that
 * come one by one in order (the accounts as they are rated): `before` gives those that sort
 * before the one come, `rest` those after the last.
 */
export class KeysAhead {
  /** The keys not handed out yet, last first. */
  private readonly left: string[];

  constructor(keys: Iterable<string>) {
    this.left = [...keys].sort().reverse();
  }

  /** The keys before `key`, in order, let go; `key` itself let go too if it is one. */
  before(key: string): string[] {
    const out: string[] = [];
    for (let next = this.left.at(-1); next !== undefined && next < key; next = this.left.at(-1))
      out.push(this.left.pop() as string);
    if (this.left.at(-1) === key) this.left.pop();
    return out;
  }

  /** The keys left, in order. */
  rest(): string[] {
    return this.left.splice(0).reverse();
  }
}
