/** A WHERE clause built of conditions whose values go as bind parameters ($1, $2, ...), never pasted into the SQL. */
export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** `$n` for `v`, to use in a condition */
  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  add(condition: string): void {
    this.parts.push(condition);
  }

  /** `WHERE a AND b`, or nothing */
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
