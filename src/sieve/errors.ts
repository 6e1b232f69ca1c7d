/** Where a Sieve script went wrong, 1-based, and what. Errors are values returned by the parser and validator. */
export interface Position {
  line: number;
  column: number;
}

export class SieveError {
  readonly line: number;
  readonly column: number;
  constructor(pos: Position, readonly detail: string) {
    this.line = pos.line;
    this.column = pos.column;
  }
  /** "line 3, column 7: unknown command 'foo'" */
  get message(): string {
    return `line ${this.line}, column ${this.column}: ${this.detail}`;
  }
  toString(): string {
    return this.message;
  }
}

/** A run-time failure (RFC 5228 §2.10.6: the implicit keep is then performed). */
export class SieveRuntimeError {
  constructor(readonly pos: Position, readonly detail: string) {}
  get message(): string {
    return `line ${this.pos.line}, column ${this.pos.column}: ${this.detail}`;
  }
}
