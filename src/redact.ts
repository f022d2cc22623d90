// The one redactor for everything fwd shows: the status API, page and event stream, --json log lines,
// --dry-run and `fwd status --json`. A value is secret by its key's name (password, passphrase, secret,
// token, private key, …) or because the code that built it marked the field with markSecret, whatever
// the field is called. It works on a copy at the edge: the engine keeps the real values it needs.

export const REDACTED = "••••••";

const SECRET_FIELDS = Symbol("fwd.secretFields");
/** A key is secret when its last word is one of these (`password`, `socksPassword`, `api_token`), … */
const SECRET_WORDS = new Set(["password", "passwd", "passphrase", "pass", "pwd", "secret", "token", "credential", "credentials", "cookie"]);
/** … or its last two words are one of these (`privateKey`, `API-Key`). */
const SECRET_PAIRS = new Set(["private key", "api key", "secret key", "access key", "auth key"]);
/** Key material is secret under any name. */
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
/** Deeper than any spec or snapshot fwd builds; a bound against a hostile plugin's options. */
const MAX_DEPTH = 32;

/**
 * Marks fields of `o` secret, for a field whose name does not say so. The mark is an enumerable symbol
 * property, so it survives `{ ...o }` copies and never appears in JSON.
 */
export function markSecret<T extends object>(o: T, ...keys: (keyof T & string)[]): T {
  Object.defineProperty(o, SECRET_FIELDS, { value: keys, enumerable: true });
  return o;
}

/** Whether a key names a secret: by its words, so `tokenFile` (a path) is not one and `socksPassword` is. */
export function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const last = words.at(-1);
  if (last === undefined) return false;
  return SECRET_WORDS.has(last) || (words.length > 1 && SECRET_PAIRS.has(`${words.at(-2)} ${last}`));
}

/** A copy of `value` with every secret replaced by REDACTED, at any depth. */
export function redact<T>(value: T): T {
  return walk(value, new Set(), 0) as T;
}

function walk(v: unknown, path: Set<object>, depth: number): unknown {
  if (typeof v === "string") return PRIVATE_KEY.test(v) ? REDACTED : v;
  if (v === null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return REDACTED;
  // A cycle or absurd depth: cut it rather than recurse without end.
  if (path.has(v) || depth >= MAX_DEPTH) return "[…]";
  path.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => walk(x, path, depth + 1));
    const json = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof json === "function") return walk(json.call(v), path, depth + 1);
    const marked = (v as { [SECRET_FIELDS]?: string[] })[SECRET_FIELDS] ?? [];
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = x !== undefined && x !== null && (marked.includes(k) || isSecretKey(k)) ? REDACTED : walk(x, path, depth + 1);
    return out;
  } finally {
    path.delete(v);
  }
}
