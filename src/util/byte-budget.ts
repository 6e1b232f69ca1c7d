/**
 * A shared allowance of bytes: work that needs a large buffer (checking and storing a received message) waits
 * until the bytes already in use leave room for it. One item is always let through when nothing else holds
 * the budget, so a message larger than the whole budget still proceeds, alone.
 */
export class ByteBudget {
  readonly limit: number;
  #inUse = 0;
  #waiting: Array<{ bytes: number; resolve: () => void }> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** Resolves once `bytes` fit; call the returned function when done with them. */
  async acquire(bytes: number): Promise<() => void> {
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#inUse += bytes;
    } else {
      await new Promise<void>((resolve) => this.#waiting.push({ bytes, resolve }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse -= bytes;
      this.#admit();
    };
  }

  #fits(bytes: number): boolean {
    return this.#inUse === 0 || this.#inUse + bytes <= this.limit;
  }

  /** First come, first served: a large item at the head is not overtaken by small ones. */
  #admit(): void {
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0]!.bytes)) {
      const next = this.#waiting.shift()!;
      this.#inUse += next.bytes;
      next.resolve();
    }
  }
}
