// ssh2's packets as patched: random padding taken from a pool filled 4 KiB at a time instead of a
// randomFillSync call per packet. Each pooled byte is used once, so no two packets share padding.

import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
// @ts-ignore: plain JS without type declarations
import * as ssh2Crypto from "ssh2/lib/protocol/crypto.js";

const crypto = ssh2Crypto as unknown as {
  CIPHER_INFO: Record<string, unknown>;
  createCipher(c: unknown): { allocPacket(n: number): Buffer };
};

for (const name of ["aes128-gcm@openssh.com", "aes128-ctr", "chacha20-poly1305@openssh.com"]) {
  test(`${name}: padding is random and never repeats, across many refills of the pool`, () => {
    const info = crypto.CIPHER_INFO[name] as { keyLen: number; ivLen: number };
    const cipher = crypto.createCipher({
      outbound: { onWrite: () => {}, seqno: 0, cipherInfo: info, cipherKey: randomBytes(info.keyLen), cipherIV: randomBytes(info.ivLen || 16), macInfo: { len: 32, actualLen: 32, isETM: false }, macKey: randomBytes(32) },
    });
    const seen = new Set<string>();
    const counts = new Array<number>(256).fill(0);
    let total = 0;
    for (let i = 0; i < 3000; i++) {
      const payloadLen = i % 97;
      const p = cipher.allocPacket(payloadLen);
      const padLen = p[4]!;
      expect(padLen).toBeGreaterThanOrEqual(4);
      const pad = p.subarray(5 + payloadLen, 5 + payloadLen + padLen);
      seen.add(pad.toString("hex"));
      for (const b of pad) counts[b]!++;
      total += padLen;
    }
    expect(total).toBeGreaterThan(4096 * 5); // the pool was refilled several times
    expect(seen.size).toBe(3000);
    // Roughly uniform: every byte value turns up, none more than three times its share.
    for (const c of counts) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThan((3 * total) / 256);
    }
  });
}
