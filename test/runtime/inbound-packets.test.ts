// A download's packets decrypted out of the read buffer into pooled memory (ssh2's AES-GCM decipher
// as patched, with the libcrypto binding): whatever the reads' boundaries, no view of a read
// buffer outlives the decrypt() call that was given it — each buffer here is emptied (detached)
// right after, as bun-tcp's recycle() does — and every payload still arrives intact. The e2e tests
// (local-forward, rekey, ciphers, compression) then hold the whole path against a real sshd.

import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
// @ts-ignore: plain JS without type declarations
import * as ssh2Crypto from "ssh2/lib/protocol/crypto.js";
import { loadAesGcmFfi } from "../../src/runtime/aes-gcm-ffi.ts";
import { freeInbound, recycleInbound, takeInbound } from "../../src/runtime/packet-pool.ts";

const binding = await loadAesGcmFfi();
const crypto = ssh2Crypto as unknown as {
  CIPHER_INFO: Record<string, unknown>;
  setAESGCMBinding(b: unknown): void;
  createCipher(c: unknown): { allocPacket(n: number): Buffer; encrypt(p: Buffer): void };
  createDecipher(c: unknown): { copiesInput?: boolean; decrypt(data: Buffer, p: number, len: number): void };
};

/** A cipher and a decipher of aes128-gcm@openssh.com on the same key, the wire between them in `wire`. */
function pair(onPayload: (p: Buffer) => void) {
  crypto.setAESGCMBinding(binding);
  const info = crypto.CIPHER_INFO["aes128-gcm@openssh.com"];
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const wire: Buffer[] = [];
  const cipher = crypto.createCipher({ outbound: { onWrite: (p: Buffer) => wire.push(Buffer.from(p)), seqno: 0, cipherInfo: info, cipherKey: key, cipherIV: iv } });
  const decipher = crypto.createDecipher({ inbound: { onPayload, seqno: 0, decipherInfo: info, decipherKey: key, decipherIV: iv } });
  const send = (payload: Buffer) => {
    const p = cipher.allocPacket(payload.length);
    payload.copy(p, 5);
    cipher.encrypt(p);
  };
  return { wire, send, decipher };
}

/** Copies `bytes` into fresh buffers cut at `cuts`, decrypting each and then emptying it. */
function feed(decipher: { decrypt(d: Buffer, p: number, l: number): void }, bytes: Buffer, cuts: number[]): void {
  let at = 0;
  for (const end of [...cuts, bytes.length]) {
    if (end <= at) continue;
    const read = Buffer.from(bytes.subarray(at, end)); // its own memory, as Bun's reads are
    decipher.decrypt(read, 0, read.length);
    (read.buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0); // as recycle() does: a view kept of it now reads as empty
    at = end;
  }
}

describe.skipIf(!binding)("incoming packets decrypted out of the read buffer", () => {
  test("the decipher says it copies what it keeps", () => {
    const { decipher } = pair(() => {});
    expect(decipher.copiesInput).toBe(true);
  });

  test("reads cut anywhere (in the length, the body, the tag, several packets in one) lose nothing", () => {
    const got: Buffer[] = [];
    const { wire, send } = pair(() => {});
    const sizes = [1, 9, 100, 4096, 32_768, 33, 0, 16_000, 32_768, 7];
    const sent = sizes.map((n) => randomBytes(n));
    for (const p of sent) send(p);
    const bytes = Buffer.concat(wire);
    // Every packet's boundaries and the bytes around them, plus random cuts.
    const edges: number[] = [];
    let at = 0;
    for (const w of wire) {
      for (const d of [1, 3, 4, 5, w.length - 17, w.length - 16, w.length - 15, w.length - 1]) edges.push(at + d);
      at += w.length;
    }
    const plans = [edges, [], Array.from({ length: 40 }, () => Math.floor(Math.random() * bytes.length)).sort((a, b) => a - b)];
    for (const cuts of plans) {
      got.length = 0;
      // The payloads as they came (views, not copies): read only after every buffer was emptied.
      const again = pair((p) => void got.push(p));
      for (const p of sent) again.send(p);
      feed(again.decipher, Buffer.concat(again.wire), cuts);
      expect(got.length).toBe(sent.length);
      got.forEach((p, i) => expect(p.equals(sent[i]!)).toBe(true));
    }
  });

  test("a packet whose tag comes in the next read is gathered first (its body whole in the first)", () => {
    const got: Buffer[] = [];
    const { wire, send, decipher } = pair((p) => void got.push(Buffer.from(p)));
    const payload = randomBytes(1000);
    send(payload);
    const w = wire[0]!;
    feed(decipher, w, [w.length - 8]);
    expect(got.length).toBe(1);
    expect(got[0]!.equals(payload)).toBe(true);
  });

  test("payloads are in pooled memory, which comes back for the next packets once recycled", () => {
    const views: Buffer[] = [];
    const { wire, send, decipher } = pair((p) => void views.push(p));
    for (let i = 0; i < 4; i++) send(randomBytes(3000));
    feed(decipher, Buffer.concat(wire), []);
    const before = freeInbound();
    for (const v of views) recycleInbound(v);
    expect(freeInbound()).toBe(before + 4);
    recycleInbound(views[0]!); // twice: ignored, never two owners of one packet
    expect(freeInbound()).toBe(before + 4);
    const next = takeInbound(3000);
    expect(views.some((v) => v.buffer === next.buffer)).toBe(true);
    recycleInbound(Buffer.alloc(3000)); // not from the pool: ignored
    expect(freeInbound()).toBe(before + 3);
    // A small packet (a window adjust, a channel's EOF) has memory of its own size, never a slab.
    const small = takeInbound(100);
    expect(small.buffer.byteLength).not.toBe(35_056);
    recycleInbound(small);
    expect(freeInbound()).toBe(before + 3);
  });
});
