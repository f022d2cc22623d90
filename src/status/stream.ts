// The live event stream's fan-out. One snapshot is serialised and encoded per tick (or per burst of
// engine events) and the same bytes go to every reader, so a reader costs a queue entry, not a
// JSON.stringify (200 readers each serialising their own snapshot every second took 87 % CPU). Readers
// are bounded in number, and a reader that stops reading is skipped, then dropped: fwd never holds more
// than a couple of frames for it.

/** A snapshot every second: the page's ages and rates move with it, and it is the stream's heartbeat,
 * well inside the HTTP idle timeout, so an open page is never taken for an idle connection. */
export const STREAM_TICK_MS = 1_000;
/** Engine events come in bursts (a connection opens and closes): one frame per burst is enough. */
const BURST_MS = 100;
/** Frames queued for one reader before it counts as not reading. */
const READER_QUEUE = 2;
/** Ticks a reader may go without reading before it is dropped. */
const STALL_TICKS = 30;

export interface StreamHubOptions {
  snapshot: () => unknown;
  onChange: (fn: () => void) => () => void;
  maxReaders: number;
  tickMs?: number;
}

interface Reader {
  c: ReadableStreamDefaultController<Uint8Array>;
  skipped: number;
}

export class StreamHub {
  private readonly readers = new Set<Reader>();
  private readonly encoder = new TextEncoder();
  private tick: ReturnType<typeof setInterval> | undefined;
  private burst: ReturnType<typeof setTimeout> | undefined;
  private offChange: (() => void) | undefined;
  private last: { at: number; frame: Uint8Array } | undefined;

  constructor(private readonly o: StreamHubOptions) {}

  get size(): number {
    return this.readers.size;
  }

  /** A new reader's stream of `event: status` frames, or undefined when the limit is reached. */
  open(): ReadableStream<Uint8Array> | undefined {
    if (this.readers.size >= this.o.maxReaders) return undefined;
    let reader: Reader;
    return new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          reader = { c, skipped: 0 };
          this.readers.add(reader);
          this.running(true);
          c.enqueue(this.frame(false));
        },
        cancel: () => this.drop(reader),
      },
      { highWaterMark: READER_QUEUE },
    );
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    for (const r of [...this.readers]) {
      this.drop(r);
      try {
        r.c.close();
      } catch {
        // already closed by its client
      }
    }
  }

  private drop(r: Reader): void {
    this.readers.delete(r);
    if (this.readers.size === 0) this.running(false);
  }

  private running(on: boolean): void {
    if (on && !this.tick) {
      this.tick = setInterval(() => this.push(), this.o.tickMs ?? STREAM_TICK_MS);
      this.offChange = this.o.onChange(() => {
        this.burst ??= setTimeout(() => {
          this.burst = undefined;
          this.push();
        }, BURST_MS);
      });
    } else if (!on && this.tick) {
      clearInterval(this.tick);
      clearTimeout(this.burst);
      this.offChange?.();
      this.tick = this.burst = this.offChange = undefined;
    }
  }

  /** The current frame, serialised at most once per tick unless `fresh` asks for a new one. */
  private frame(fresh: boolean): Uint8Array {
    const now = Date.now();
    if (fresh || !this.last || now - this.last.at >= (this.o.tickMs ?? STREAM_TICK_MS)) {
      this.last = { at: now, frame: this.encoder.encode(`event: status\ndata: ${JSON.stringify(this.o.snapshot())}\n\n`) };
    }
    return this.last.frame;
  }

  private push(): void {
    const frame = this.frame(true);
    for (const r of [...this.readers]) {
      if ((r.c.desiredSize ?? 0) <= 0) {
        // Not reading: skip (the next frame supersedes this one), and give up on it after a while.
        if (++r.skipped >= STALL_TICKS) {
          this.drop(r);
          r.c.error(new Error("status stream: reader stopped reading"));
        }
        continue;
      }
      r.skipped = 0;
      r.c.enqueue(frame);
    }
  }
}
