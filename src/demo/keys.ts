// Ephemeral ed25519 key pairs for the demo. Under Bun, ssh2's generateKeyPairSync drops a leading
// zero byte of the public key about once in 300 keys (the key then has 31 bytes and does not parse),
// so a pair is only used once both halves parse; a few tries are always enough.

import { utils, type ParsedKey } from "ssh2";

export interface KeyPair {
  private: string;
  public: string;
  parsedPublic: ParsedKey;
}

export function ed25519KeyPair(): KeyPair {
  for (let attempt = 0; attempt < 20; attempt++) {
    const k = utils.generateKeyPairSync("ed25519");
    const pub = utils.parseKey(k.public);
    const priv = utils.parseKey(k.private);
    if (!(pub instanceof Error) && !(priv instanceof Error)) return { private: k.private, public: k.public, parsedPublic: Array.isArray(pub) ? pub[0]! : pub };
  }
  throw new Error("could not generate a usable ed25519 key pair in 20 tries");
}
