// The in-place AES-GCM (libcrypto through bun:ffi) against node:crypto's, packet by packet: the same
// bytes out, the counter IV stepping as RFC 5647 says, and a changed byte or tag refused. The e2e
// tests (ciphers, rekey) then hold it against a real sshd.

import { describe, expect, test } from "bun:test";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { loadAesGcmFfi } from "../../src/runtime/aes-gcm-ffi.ts";

const binding = await loadAesGcmFfi();

/** RFC 5647: the last 8 bytes of the 12-byte IV count packets, big endian. */
function nextIv(iv: Buffer): Buffer {
  const n = Buffer.from(iv);
  n.writeBigUInt64BE((n.readBigUInt64BE(4) + 1n) & 0xffff_ffff_ffff_ffffn, 4);
  return n;
}

/** A packet as ssh2 lays it out for the binding: length, body (a multiple of 16), 16 bytes for the tag. */
function packet(bodyLen: number): Buffer {
  const p = Buffer.alloc(4 + bodyLen + 16);
  p.writeUInt32BE(bodyLen, 0);
  randomBytes(bodyLen).copy(p, 4);
  return p;
}

describe.skipIf(!binding)("in-place AES-GCM", () => {
  for (const [name, keyLen] of [["aes-128-gcm", 16], ["aes-256-gcm", 32]] as const) {
    test(`${name}: five packets match node:crypto's ciphertext and tag, IV counting up`, () => {
      const key = randomBytes(keyLen);
      // A counter about to carry across bytes, so the increment is seen to be 64-bit.
      const iv = Buffer.concat([randomBytes(4), Buffer.from("00000000fffffffe", "hex")]);
      const enc = new binding!.AESGCMCipher(name, key, iv);
      let want: Buffer = iv;
      for (const bodyLen of [16, 32, 1024, 32_784, 48]) {
        const p = packet(bodyLen);
        const plain = Buffer.from(p.subarray(4, 4 + bodyLen));
        const c = createCipheriv(name, key, want);
        c.setAAD(p.subarray(0, 4));
        const expected = Buffer.concat([c.update(plain), c.final()]);
        enc.encrypt(p);
        expect(p.subarray(4, 4 + bodyLen).equals(expected)).toBe(true);
        expect(p.subarray(4 + bodyLen).equals(c.getAuthTag())).toBe(true);
        want = nextIv(want);
      }
      enc.free();
      expect(() => enc.encrypt(packet(16))).toThrow(/freed/);
    });

    test(`${name}: encryptFrom (the data read from where it lies) seals exactly what encrypt seals`, () => {
      const key = randomBytes(keyLen);
      const iv = randomBytes(12);
      const copying = new binding!.AESGCMCipher(name, key, iv);
      const reading = new binding!.AESGCMCipher(name, key, iv);
      // CHANNEL_DATA's data starts at byte 14; data of every length around the 16-byte blocks, a
      // 32 KiB packet's worth, and sources at odd offsets of their memory.
      for (const [dataLen, offset] of [[0, 0], [1, 0], [2, 1], [15, 3], [16, 0], [17, 5], [1000, 7], [32_768, 0], [32_759, 1]] as const) {
        const at = 14;
        // Padding length byte, payload (type, channel, length, data), then 4 to 19 bytes of padding.
        const unpadded = 1 + 9 + dataLen;
        const pad = 16 - (unpadded % 16) < 4 ? 32 - (unpadded % 16) : 16 - (unpadded % 16);
        const p = packet(unpadded + pad);
        const data = randomBytes(dataLen + offset).subarray(offset);
        const q = Buffer.from(p);
        data.copy(p, at);
        copying.encrypt(p);
        reading.encryptFrom(q, data, at);
        expect(q.equals(p)).toBe(true);
      }
      expect(() => reading.encryptFrom(packet(16), Buffer.alloc(16), 14)).toThrow(/does not fit/);
      copying.free();
      reading.free();
    });

    test(`${name}: decrypts node:crypto's packets in place and refuses a changed byte or tag`, () => {
      const key = randomBytes(keyLen);
      const iv = randomBytes(12);
      const dec = new binding!.AESGCMDecipher(name, key, iv);
      let at: Buffer = iv;
      const seal = (plain: Buffer) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(plain.length);
        const c = createCipheriv(name, key, at);
        c.setAAD(len);
        const body = Buffer.concat([c.update(plain), c.final()]);
        at = nextIv(at);
        return { body, tag: c.getAuthTag() };
      };
      for (const n of [16, 4096, 32_784]) {
        const plain = randomBytes(n);
        const { body, tag } = seal(plain);
        dec.decrypt(body, n, tag);
        expect(body.equals(plain)).toBe(true);
      }
      const forged = seal(randomBytes(64));
      forged.body[10]! ^= 1;
      expect(() => dec.decrypt(forged.body, 64, forged.tag)).toThrow(/Bad MAC/);
      // A node:crypto check that the test's own sealing is what a peer would send.
      const again = seal(randomBytes(32));
      const d = createDecipheriv(name, key, nextIv(nextIv(nextIv(nextIv(iv)))));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(32);
      d.setAAD(len);
      d.setAuthTag(again.tag);
      expect(() => Buffer.concat([d.update(again.body), d.final()])).not.toThrow();
    });
  }

  test("a key of the wrong length is refused before any packet", () => {
    expect(() => new binding!.AESGCMCipher("aes-256-gcm", randomBytes(16), randomBytes(12))).toThrow(/length/);
  });
});

test("libcrypto is found on this machine (CI installs it with openssh)", () => {
  expect(binding).toBeDefined();
});
