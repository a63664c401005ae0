/**
 * The WHERE clause of a list query built from optional conditions: each `?` of a condition takes the
 * next of its values as a numbered parameter ($1, $2, …), so no caller counts parameters. Conditions
 * are the code's own SQL, never input; a condition holds no other `?` (not jsonb's `?` operators).
 */
export class SqlFilter {
  /** The values of the placeholders, in order: the query's parameters. */
  readonly params: unknown[] = [];
  readonly #conditions: string[] = [];

  /** Adds `condition`; its `?` placeholders take `values` in order. */
  and(condition: string, ...values: unknown[]): this {
    const placeholders = condition.split('?').length - 1;
    if (placeholders !== values.length) {
      throw new Error(`${placeholders} placeholders but ${values.length} values in: ${condition}`);
    }
    let next = 0;
    this.#conditions.push(condition.replace(/\?/g, () => this.param(values[next++])));
    return this;
  }

  /** The placeholder of one more parameter outside the conditions (the limit). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** `where a and b`, or nothing when no condition was added. */
  get where(): string {
    return this.#conditions.length === 0 ? '' : `where ${this.#conditions.join(' and ')}`;
  }
}
