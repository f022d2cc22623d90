// How many bytes the connections of this process may hold in memory at once. Each direction of a
// connection has its own bound; together they share one budget, and over it every reader pauses
// once it holds its floor — memory stays bounded however many peers stall, and no connection is
// starved completely by the others.

/** What one direction of one connection may hold before its reader pauses. */
export const PER_DIRECTION_BYTES = 256 * 1024;
/** What every connection of the process may hold together. */
export const PROCESS_BUDGET_BYTES = 64 * 1024 * 1024;
/** What a direction may still hold while the process is over its budget: one SSH packet's worth. */
export const FLOOR_BYTES = 32 * 1024;

export class BufferBudget {
  private held = 0;
  private waiting = new Set<() => void>();

  constructor(
    readonly limit: number = PROCESS_BUDGET_BYTES,
    readonly floor: number = FLOOR_BYTES,
  ) {}

  get total(): number {
    return this.held;
  }

  /** Whether a direction that holds `mine` may read on. */
  allows(mine: number): boolean {
    return this.held <= this.limit || mine <= this.floor;
  }

  take(n: number): void {
    this.held += n;
  }

  give(n: number): void {
    this.held -= n;
    if (this.held > this.limit || this.waiting.size === 0) return;
    for (const w of [...this.waiting]) w();
  }

  /** `wake` is called whenever the budget frees up, until unwait(). */
  wait(wake: () => void): void {
    this.waiting.add(wake);
  }

  unwait(wake: () => void): void {
    this.waiting.delete(wake);
  }
}

/** The one budget of this process, shared by every forward. */
export const processBudget = new BufferBudget();
