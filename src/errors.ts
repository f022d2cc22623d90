// FwdError: the one error type for what a user can fix — a code to branch on, a message that names
// its context, and a hint that says what to do. Everything else is a bug and keeps its stack.

export type ErrorCode =
  | "E_CONFIG" // bad flags, ssh_config, scenario files
  | "E_AUTH" // every authentication method failed
  | "E_HOSTKEY" // unknown or changed host key
  | "E_CONNECT" // TCP/DNS/timeout reaching the SSH server
  | "E_BIND" // a local listener could not bind
  | "E_CHANNEL" // the server refused or failed to open a forwarded channel
  | "E_FORWARD" // the server refused a forward request (listen on its side)
  | "E_PROTOCOL" // the SSH conversation itself broke
  | "E_CLOSED"; // the session ended while something waited on it

export class FwdError extends Error {
  override readonly name = "FwdError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason;
  }

  /** A finer word under the code for counters and protocol mapping, e.g. "refused", "prohibited". */
  readonly reason: string | undefined;

  /** One line for a terminal: `message (hint)`. */
  toLine(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export const isFwdError = (e: unknown): e is FwdError => e instanceof FwdError;

/** The value-or-error shape used where failure is an expected outcome, not an exception. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: FwdError };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: FwdError): Result<T> => ({ ok: false, error });
