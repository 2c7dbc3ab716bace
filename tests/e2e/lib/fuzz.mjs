// Seeded randomness and byte mutation shared by the fuzz smoke tests (http_fuzz,
// socketio_fuzz): a failure is replayed with the same FUZZ_SEED.

// mulberry32: a small seeded PRNG returning floats in [0, 1).
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// pick / int / mutate bound to one generator.
export function fuzzer(seed) {
  const rand = prng(seed);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  // Up to maxOps byte flips, cuts, random insertions and repeats of a slice.
  function mutate(buf, maxOps = 6) {
    let b = Buffer.from(buf);
    for (let n = int(0, maxOps); n > 0; n--) {
      if (b.length === 0) b = Buffer.from('x');
      const i = int(0, b.length - 1);
      const op = rand();
      if (op < 0.3) {
        b[i] = int(0, 255);
      } else if (op < 0.5) {
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + int(1, 10))]);
      } else if (op < 0.7) {
        const ins = Buffer.from(Array.from({ length: int(1, 20) }, () => int(0, 255)));
        b = Buffer.concat([b.subarray(0, i), ins, b.subarray(i)]);
      } else {
        const piece = b.subarray(i, i + int(1, 50));
        b = Buffer.concat([b.subarray(0, i), ...Array(int(1, 5)).fill(piece), b.subarray(i)]);
      }
    }
    return b;
  }
  return { rand, pick, int, mutate };
}
