// AES-GCM for the SSH transport that encrypts and decrypts packets where they lie: the system's
// libcrypto (OpenSSL 3, what OpenSSH itself uses) called through bun:ffi, shaped like the native
// addon ssh2 ships (`AESGCMCipher`/`AESGCMDecipher` of its sshcrypto.node, which Bun cannot load).
//
// Why: node:crypto's update() returns a new buffer for every 32 KiB packet, and ssh2 then writes the
// length, that buffer and the tag separately; under Bun the fresh memory and the joins that follow
// cost more than the cipher itself (profiled: ~0.7 of ~2.2 CPU s per GiB uploaded). In place there
// is no allocation per packet, no copy and one buffer per packet for the socket. The counter IV is
// OpenSSL's own (EVP_CTRL_GCM_IV_GEN), as in OpenSSH and in ssh2's addon.
//
// Only under Bun and only where libcrypto.so.3 opens; otherwise ssh2 keeps node:crypto.

import { takeInbound, takePacket } from "./packet-pool.ts";

const EVP_CTRL_AEAD_SET_IVLEN = 0x9;
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const EVP_CTRL_GCM_SET_IV_FIXED = 0x12;
const EVP_CTRL_GCM_IV_GEN = 0x13;

type Ptr = number;
interface Lib {
  EVP_CIPHER_CTX_new(): Ptr;
  EVP_CIPHER_CTX_free(ctx: Ptr): void;
  EVP_aes_128_gcm(): Ptr;
  EVP_aes_256_gcm(): Ptr;
  EVP_CipherInit_ex(ctx: Ptr, cipher: Ptr | null, engine: null, key: Uint8Array | null, iv: Uint8Array | null, enc: number): number;
  EVP_CipherUpdate(ctx: Ptr, out: Ptr | null, outl: Int32Array, input: Ptr | Uint8Array, inl: number): number;
  EVP_CipherFinal_ex(ctx: Ptr, out: Ptr | null, outl: Int32Array): number;
  EVP_CIPHER_CTX_ctrl(ctx: Ptr, type: number, arg: number, ptr: Ptr | Uint8Array | null): number;
}

export interface AesGcmBinding {
  AESGCMCipher: new (sslName: string, key: Buffer, iv: Buffer) => {
    allocPacket(n: number): Buffer;
    encrypt(packet: Buffer): void;
    encryptFrom(packet: Buffer, data: Uint8Array, at: number): void;
    free(): void;
  };
  AESGCMDecipher: new (sslName: string, key: Buffer, iv: Buffer) => {
    allocPacket(n: number): Buffer;
    decrypt(packet: Uint8Array, length: number, tag: Buffer): void;
    decryptTo(out: Uint8Array, input: Uint8Array, length: number, tag: Buffer): void;
    free(): void;
  };
}

/** Candidates for the library, most specific first (Debian and most others ship libssl3). */
const LIBCRYPTO = ["libcrypto.so.3", "libcrypto.so"];

/** The binding, or undefined where bun:ffi or libcrypto is not there (then node:crypto it is). */
export async function loadAesGcmFfi(): Promise<AesGcmBinding | undefined> {
  let ffi: typeof import("bun:ffi");
  try {
    ffi = await import("bun:ffi");
  } catch {
    return undefined;
  }
  const { dlopen, FFIType: T, ptr } = ffi;
  const symbols = {
    EVP_CIPHER_CTX_new: { args: [], returns: T.ptr },
    EVP_CIPHER_CTX_free: { args: [T.ptr], returns: T.void },
    EVP_aes_128_gcm: { args: [], returns: T.ptr },
    EVP_aes_256_gcm: { args: [], returns: T.ptr },
    EVP_CipherInit_ex: { args: [T.ptr, T.ptr, T.ptr, T.ptr, T.ptr, T.i32], returns: T.i32 },
    EVP_CipherUpdate: { args: [T.ptr, T.ptr, T.ptr, T.ptr, T.i32], returns: T.i32 },
    EVP_CipherFinal_ex: { args: [T.ptr, T.ptr, T.ptr], returns: T.i32 },
    EVP_CIPHER_CTX_ctrl: { args: [T.ptr, T.i32, T.i32, T.ptr], returns: T.i32 },
  } as const;
  let lib: Lib | undefined;
  for (const name of LIBCRYPTO) {
    try {
      lib = dlopen(name, symbols).symbols as unknown as Lib;
      break;
    } catch {
      // the next name
    }
  }
  if (!lib) return undefined;
  const L = lib;
  // One scratch word for the out-lengths OpenSSL reports, and one byte for IV_GEN's copy of the IV.
  // Passed as arrays, never as a pointer taken once: JavaScriptCore may move a small array's bytes
  // (seen: a cached pointer fed stale AAD after some rekeys, and the peer's tag failed to match).
  const outl = new Int32Array(1);
  const lastIv = new Uint8Array(1);
  const contexts = new FinalizationRegistry<Ptr>((ctx) => L.EVP_CIPHER_CTX_free(ctx));

  const check = (ok: number, what: string) => {
    if (ok !== 1) throw new Error(`AES-GCM: ${what} failed`);
  };
  const open = (owner: object, sslName: string, key: Buffer, iv: Buffer, encrypt: boolean): Ptr => {
    const cipher = sslName === "aes-128-gcm" ? L.EVP_aes_128_gcm() : sslName === "aes-256-gcm" ? L.EVP_aes_256_gcm() : 0;
    if (!cipher) throw new Error(`AES-GCM: unknown cipher ${sslName}`);
    if (key.length !== (sslName === "aes-128-gcm" ? 16 : 32) || iv.length !== 12) throw new Error("AES-GCM: bad key or IV length");
    const ctx = L.EVP_CIPHER_CTX_new();
    if (!ctx) throw new Error("AES-GCM: out of memory");
    contexts.register(owner, ctx, owner);
    const e = encrypt ? 1 : 0;
    check(L.EVP_CipherInit_ex(ctx, cipher, null, null, null, e), "init");
    check(L.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, null), "IV length");
    check(L.EVP_CipherInit_ex(ctx, null, null, key, iv, e), "key");
    check(L.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IV_FIXED, -1, iv), "IV");
    return ctx;
  };
  /** `len` bytes from `input` through the cipher into `out`; how many it wrote. */
  const update = (ctx: Ptr, out: Ptr, input: Ptr, len: number): number => {
    check(L.EVP_CipherUpdate(ctx, out, outl, input, len), "encrypt");
    return outl[0]!;
  };
  const close = (owner: object, ctx: Ptr) => {
    contexts.unregister(owner);
    L.EVP_CIPHER_CTX_free(ctx);
  };

  class AESGCMCipher {
    private ctx: Ptr;
    constructor(sslName: string, key: Buffer, iv: Buffer) {
      this.ctx = open(this, sslName, key, iv, true);
    }
    /** Memory for a packet of `n` bytes (tag included), reused once the socket has written it. */
    allocPacket(n: number): Buffer {
      return takePacket(n);
    }
    /** `packet`: length (4, the AAD), padding length, payload, padding, then 16 bytes for the tag. */
    encrypt(packet: Buffer): void {
      this.seal(packet, undefined, packet.length - 16);
    }
    /**
     * As encrypt(), but the `data.length` bytes at `at` are read from `data`, not from the packet
     * (which need not hold them): the cipher writes them into the packet as it encrypts, one pass
     * over a channel's data instead of a copy first and then the cipher (measured: ~10 % of an
     * upload's CPU was that copy). GCM takes its input in pieces of any length.
     */
    encryptFrom(packet: Buffer, data: Uint8Array, at: number): void {
      if (at < 5 || at + data.length > packet.length - 16) throw new Error("AES-GCM: data does not fit the packet");
      this.seal(packet, data, at);
    }
    /** Encrypts the packet's bytes from 4 on in place, those at `at` read from `data` when given. */
    private seal(packet: Buffer, data: Uint8Array | undefined, at: number): void {
      if (!this.ctx) throw new Error("AES-GCM: cipher was freed");
      const ctx = this.ctx;
      const p = ptr(packet);
      const dataLen = packet.length - 16;
      const n = data ? data.length : 0;
      check(L.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_IV_GEN, 1, lastIv), "IV increment");
      check(L.EVP_CipherUpdate(ctx, null, outl, p, 4), "AAD");
      let done = update(ctx, p + 4, p + 4, at - 4);
      if (n > 0) done += update(ctx, p + at, ptr(data!), n);
      if (at + n < dataLen) done += update(ctx, p + at + n, p + at + n, dataLen - at - n);
      if (done !== dataLen - 4) throw new Error("AES-GCM: partial encrypt");
      check(L.EVP_CipherFinal_ex(ctx, null, outl), "final");
      check(L.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, p + dataLen), "tag");
    }
    free(): void {
      if (this.ctx) close(this, this.ctx);
      this.ctx = 0;
    }
  }

  const lenBytes = new Uint8Array(4);
  class AESGCMDecipher {
    private ctx: Ptr;
    constructor(sslName: string, key: Buffer, iv: Buffer) {
      this.ctx = open(this, sslName, key, iv, false);
    }
    /** Memory to decrypt a packet of `n` bytes into, given back by its channel's reader (packet-pool.ts). */
    allocPacket(n: number): Buffer {
      return takeInbound(n);
    }
    /** `packet`: padding length, payload and padding (decrypted in place); throws unless `tag` matches. */
    decrypt(packet: Uint8Array, length: number, tag: Buffer): void {
      this.decryptTo(packet, packet, length, tag);
    }
    /**
     * As decrypt(), but from `input` (where the packet was read) into `out` (as long): the read
     * buffer is then free once parsed, and no view of it outlives the call.
     */
    decryptTo(out: Uint8Array, input: Uint8Array, length: number, tag: Buffer): void {
      if (!this.ctx) throw new Error("AES-GCM: decipher was freed");
      if (out.length !== input.length) throw new Error("AES-GCM: output and input differ in length");
      const ctx = this.ctx;
      lenBytes[0] = length >>> 24;
      lenBytes[1] = (length >>> 16) & 0xff;
      lenBytes[2] = (length >>> 8) & 0xff;
      lenBytes[3] = length & 0xff;
      const p = ptr(input);
      check(L.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_IV_GEN, 1, lastIv), "IV increment");
      check(L.EVP_CipherUpdate(ctx, null, outl, lenBytes, 4), "AAD");
      check(L.EVP_CipherUpdate(ctx, out === input ? p : ptr(out), outl, p, input.length), "decrypt");
      if (outl[0] !== input.length) throw new Error("AES-GCM: partial decrypt");
      check(L.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag), "tag");
      // A tag that does not match is a forged or damaged packet: ssh2 ends the session on the throw.
      if (L.EVP_CipherFinal_ex(ctx, null, outl) !== 1) throw new Error("Bad MAC (AES-GCM tag mismatch)");
    }
    free(): void {
      if (this.ctx) close(this, this.ctx);
      this.ctx = 0;
    }
  }
  return { AESGCMCipher, AESGCMDecipher } as unknown as AesGcmBinding;
}
