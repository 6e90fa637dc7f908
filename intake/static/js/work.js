// The proof of work of docs/web.md ("Floods"): find a nonce such that
// BLAKE2b-256("intake-pow-v2" || challenge || nonce) starts with `bits` zero bits.
//
// Each try calls libsodium's compiled crypto_generichash on buffers allocated once in its
// WebAssembly memory: no allocation and no copy per try, which is what kept the earlier solver
// at a fraction of the speed native code reaches.

const DOMAIN = "intake-pow-v2";
const YIELD_MS = 40;

function zeroBits(heap, at) {
  // How many zero bits start the 32 bytes at `heap[at]`.
  let bits = 0;
  for (let i = 0; i < 32; i++) {
    const byte = heap[at + i];
    if (byte) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

export async function solve(challenge, bits, onTries = () => {}) {
  // The first nonce (base 36 text) that solves `challenge` with `bits` zero bits; the page stays responsive.
  const lib = globalThis.sodium.libsodium;
  const prefix = new TextEncoder().encode(DOMAIN + challenge);
  const input = lib._malloc(prefix.length + 16);
  const out = lib._malloc(32);
  try {
    lib.HEAPU8.set(prefix, input);
    for (let n = 0, pause = performance.now() + YIELD_MS; ; n++) {
      const nonce = n.toString(36);
      const heap = lib.HEAPU8;
      for (let i = 0; i < nonce.length; i++) heap[input + prefix.length + i] = nonce.charCodeAt(i);
      lib._crypto_generichash(out, 32, input, prefix.length + nonce.length, 0, 0, 0);
      if (zeroBits(lib.HEAPU8, out) >= bits) return nonce;
      if ((n & 1023) === 1023 && performance.now() > pause) {
        onTries(n + 1);
        await new Promise((r) => setTimeout(r, 0));
        pause = performance.now() + YIELD_MS;
      }
    }
  } finally {
    lib._free(input);
    lib._free(out);
  }
}
