// Authentication in OpenSSH's order — agent, identity files, then keyboard-interactive and password
// when a person can be asked — remembering every attempt so a failure can say what was tried.

import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware } from "ssh2";
import { parseKey } from "./ssh2-client.ts";
import { readTrusted, UNTRUSTED } from "../file-trust.ts";
import { FwdError } from "../errors.ts";
import type { Prompter } from "./prompt.ts";

export interface IdentityFile {
  path: string;
  /** Named by -i or IdentityFile (a missing one is worth a warning), not one of the defaults. */
  explicit: boolean;
  /** The key itself, for a key that lives in memory only (the demo's); `path` then only labels it. */
  data?: string;
}

export interface AuthOptions {
  user: string;
  identityFiles: IdentityFile[];
  identitiesOnly: boolean;
  /** SSH_AUTH_SOCK or IdentityAgent; undefined for none. */
  agentSocket: string | undefined;
  prompt: Prompter | undefined;
  warn: (msg: string) => void;
}

interface Candidate {
  /** The SSH method it uses, to skip what the server does not allow. */
  method: AuthenticationType;
  label: string;
  make: () => Promise<AnyAuthMethod | string>; // a string: why it was skipped
}

export class Authenticator {
  readonly tried: string[] = [];
  private skipped: string[] = [];
  private serverAllows: string[] = [];

  constructor(private readonly o: AuthOptions) {}

  handler(): AuthHandlerMiddleware {
    const queue = this.candidates();
    return (authsLeft, _partial, next) => {
      if (authsLeft) this.serverAllows = authsLeft;
      void (async () => {
        for (;;) {
          const c = queue.shift();
          if (!c) return next(false as unknown as AuthenticationType);
          const allowed = !authsLeft || authsLeft.includes(c.method);
          if (!allowed) continue;
          const m = await c.make();
          if (typeof m === "string") {
            this.skipped.push(`${c.label} (${m})`);
            continue;
          }
          this.tried.push(c.label);
          return next(m);
        }
      })();
    };
  }

  failure(where: string): FwdError {
    const tried = this.tried.length ? this.tried.join(", ") : "nothing";
    const skipped = this.skipped.length ? `; skipped ${this.skipped.join(", ")}` : "";
    const allows = this.serverAllows.length ? `; server allows ${this.serverAllows.join(", ")}` : "";
    return new FwdError(
      "E_AUTH",
      `${where}: authentication failed (tried ${tried}${skipped}${allows})`,
      `check the user (-l or user@host), give the right key with -i, or load it into ssh-agent; the server must list its public key in ~/.ssh/authorized_keys`,
      { reason: "auth" },
    );
  }

  private candidates(): Candidate[] {
    const { user: username, prompt } = this.o;
    const list: Candidate[] = [];
    const agent = this.o.agentSocket;
    if (agent && !this.o.identitiesOnly)
      list.push({ method: "publickey", label: "ssh-agent", make: async () => ({ type: "agent", username, agent }) });
    for (const f of this.o.identityFiles)
      list.push({ method: "publickey", label: `key ${f.path}`, make: () => this.loadKey(f) });
    if (prompt) {
      list.push({
        method: "keyboard-interactive",
        label: "keyboard-interactive",
        make: async () => ({
          type: "keyboard-interactive",
          username,
          prompt: (_name, _instr, _lang, prompts, finish) =>
            void (async () => {
              const answers: string[] = [];
              for (const p of prompts) answers.push((await prompt(p.prompt, { secret: !p.echo })) ?? "");
              finish(answers);
            })(),
        }),
      });
      // Three tries, as OpenSSH's NumberOfPasswordPrompts.
      for (let i = 1; i <= 3; i++)
        list.push({
          method: "password",
          label: i === 1 ? "password" : `password (try ${i})`,
          make: async () => {
            const password = await prompt(`${username}'s password: `, { secret: true });
            return password === undefined ? "no terminal" : { type: "password", username, password };
          },
        });
    } else {
      this.skipped.push("password and keyboard-interactive (no terminal to ask)");
    }
    return list;
  }

  private async loadKey(f: IdentityFile): Promise<AnyAuthMethod | string> {
    let data: Buffer | string;
    if (f.data !== undefined) data = f.data;
    else {
      const read = readTrusted(f.path, { what: "identity file", secret: true });
      if (!read.ok) {
        // As OpenSSH: a key others can read (or change) is never offered, named or default, and says why.
        if (read.error.reason === UNTRUSTED) {
          this.o.warn(`UNPROTECTED PRIVATE KEY FILE: ${read.error.message}; this key is ignored (${read.error.hint})`);
          return "refused: its permissions or owner are unsafe";
        }
        if (f.explicit) this.o.warn(read.error.reason === "ENOENT" ? `identity file ${f.path}: not found` : read.error.message);
        return "not readable";
      }
      data = read.value;
    }
    const parsed = parseKey(data);
    if (!(parsed instanceof Error)) return { type: "publickey", username: this.o.user, key: parsed };
    if (!/passphrase|encrypted/i.test(parsed.message)) return `unusable: ${parsed.message}`;
    if (!this.o.prompt) return "encrypted, no terminal to ask its passphrase";
    for (let attempt = 0; attempt < 3; attempt++) {
      const pass = await this.o.prompt(`Enter passphrase for key '${f.path}': `, { secret: true });
      if (pass === undefined || pass === "") return "encrypted, no passphrase given";
      const key = parseKey(data, pass);
      if (!(key instanceof Error)) return { type: "publickey", username: this.o.user, key };
      this.o.warn(`bad passphrase for ${f.path}`);
    }
    return "encrypted, wrong passphrase";
  }
}
