// The one question the SSH layer may ask a person (a passphrase, a password, a host key), behind a
// function so that a caller without a terminal passes none and gets a clear error instead of a hang.

/** Resolves to the answer, or undefined when nobody can be asked. */
export type Prompter = (question: string, opts: { secret: boolean }) => Promise<string | undefined>;
