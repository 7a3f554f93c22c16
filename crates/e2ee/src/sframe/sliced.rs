//! AES-GCM for WebAssembly, bitsliced over 128-bit SIMD: eight blocks at a time, no table and no
//! branch or address that depends on a key or data bit (constant time, as the issue demands of
//! any software AES).
//!
//! WebAssembly has no AES instructions, and the `aes` crate's software AES on `wasm32` is its
//! 32-bit fixsliced one (two blocks per pass: it picks its width from the pointer size). Here
//! the state of eight blocks is held in eight `v128` registers, register `i` holding bit `i` of
//! every byte of every block ("bit planes"), laid out so that each AES step is a few whole-
//! register operations: SubBytes a Boolean circuit of 113 gates (Boyar and Peralta's), ShiftRows
//! and the row rotations of MixColumns one byte shuffle per plane, AddRoundKey one XOR per plane.
//! GHASH ([`Ghash`]) multiplies with 64-bit integer products, which WebAssembly has (the
//! `ghash` crate picks its 32-bit code on `wasm32`, by pointer width). docs/MEASURED.md, "A
//! bitsliced AES-GCM for wasm", has the figures.
//!
//! The circuit and the steps are written once, over [`Planes`]; the worker runs them over
//! `v128` ([`simd`]), and the host tests run them over a portable stand-in ([`portable`])
//! against the `aes-gcm` crate, so that a wrong gate fails on the host too.

use core::ops::{BitAnd, BitOr, BitXor, Not};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// ShiftRows as a byte shuffle: byte `4c + r` of the state (column `c`, row `r`) takes byte
/// `4((c + r) mod 4) + r`.
const SHIFT_ROWS: [usize; 16] = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];
/// Each column's bytes moved up by one row, and by two: byte `4c + r` takes `4c + (r + k) mod 4`.
const ROTATE_ROWS_1: [usize; 16] = [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12];
const ROTATE_ROWS_2: [usize; 16] = [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13];

/// One bit plane: 16 bytes, byte `b` holding, in bit `j`, one bit of byte `b` of block `j`.
pub trait Planes:
    Copy + BitXor<Output = Self> + BitAnd<Output = Self> + BitOr<Output = Self> + Not<Output = Self>
{
    fn load(bytes: &[u8; 16]) -> Self;
    fn store(self, bytes: &mut [u8; 16]);
    /// Shifts within each 64-bit half (only ever by 1, 2 or 4, masked to stay within bytes).
    fn shl(self, n: u32) -> Self;
    fn shr(self, n: u32) -> Self;
    /// The byte `b` of each plane is byte `b` of the AES state (column-major); these move
    /// bytes as [`SHIFT_ROWS`], [`ROTATE_ROWS_1`] and [`ROTATE_ROWS_2`] say.
    fn shift_rows(self) -> Self;
    fn rotate_rows_1(self) -> Self;
    fn rotate_rows_2(self) -> Self;
}

/// The S-box of every byte of `x` (`x[i]` holds bit `i`), as Boyar and Peralta's circuit of
/// 113 gates (32 AND, 81 XOR/XNOR; "A depth-16 circuit for the AES S-box", 2011). Written over
/// any bitwise type: planes for the rounds, bytes as lanes for the key schedule.
#[inline(always)]
fn sub_bytes<T>(x: &mut [T; 8])
where
    T: Copy + BitXor<Output = T> + BitAnd<Output = T> + Not<Output = T>,
{
    // The circuit numbers bits from the most significant: its x0 is bit 7.
    let (x0, x1, x2, x3, x4, x5, x6, x7) = (x[7], x[6], x[5], x[4], x[3], x[2], x[1], x[0]);

    // Top linear layer.
    let y14 = x3 ^ x5;
    let y13 = x0 ^ x6;
    let y9 = x0 ^ x3;
    let y8 = x0 ^ x5;
    let t0 = x1 ^ x2;
    let y1 = t0 ^ x7;
    let y4 = y1 ^ x3;
    let y12 = y13 ^ y14;
    let y2 = y1 ^ x0;
    let y5 = y1 ^ x6;
    let y3 = y5 ^ y8;
    let t1 = x4 ^ y12;
    let y15 = t1 ^ x5;
    let y20 = t1 ^ x1;
    let y6 = y15 ^ x7;
    let y10 = y15 ^ t0;
    let y11 = y20 ^ y9;
    let y7 = x7 ^ y11;
    let y17 = y10 ^ y11;
    let y19 = y10 ^ y8;
    let y16 = t0 ^ y11;
    let y21 = y13 ^ y16;
    let y18 = x0 ^ y16;

    // Middle, non-linear layer: the inversion in GF(2^8).
    let t2 = y12 & y15;
    let t3 = y3 & y6;
    let t4 = t3 ^ t2;
    let t5 = y4 & x7;
    let t6 = t5 ^ t2;
    let t7 = y13 & y16;
    let t8 = y5 & y1;
    let t9 = t8 ^ t7;
    let t10 = y2 & y7;
    let t11 = t10 ^ t7;
    let t12 = y9 & y11;
    let t13 = y14 & y17;
    let t14 = t13 ^ t12;
    let t15 = y8 & y10;
    let t16 = t15 ^ t12;
    let t17 = t4 ^ t14;
    let t18 = t6 ^ t16;
    let t19 = t9 ^ t14;
    let t20 = t11 ^ t16;
    let t21 = t17 ^ y20;
    let t22 = t18 ^ y19;
    let t23 = t19 ^ y21;
    let t24 = t20 ^ y18;

    let t25 = t21 ^ t22;
    let t26 = t21 & t23;
    let t27 = t24 ^ t26;
    let t28 = t25 & t27;
    let t29 = t28 ^ t22;
    let t30 = t23 ^ t24;
    let t31 = t22 ^ t26;
    let t32 = t31 & t30;
    let t33 = t32 ^ t24;
    let t34 = t23 ^ t33;
    let t35 = t27 ^ t33;
    let t36 = t24 & t35;
    let t37 = t36 ^ t34;
    let t38 = t27 ^ t36;
    let t39 = t29 & t38;
    let t40 = t25 ^ t39;

    let t41 = t40 ^ t37;
    let t42 = t29 ^ t33;
    let t43 = t29 ^ t40;
    let t44 = t33 ^ t37;
    let t45 = t42 ^ t41;
    let z0 = t44 & y15;
    let z1 = t37 & y6;
    let z2 = t33 & x7;
    let z3 = t43 & y16;
    let z4 = t40 & y1;
    let z5 = t29 & y7;
    let z6 = t42 & y11;
    let z7 = t45 & y17;
    let z8 = t41 & y10;
    let z9 = t44 & y12;
    let z10 = t37 & y3;
    let z11 = t33 & y4;
    let z12 = t43 & y13;
    let z13 = t40 & y5;
    let z14 = t29 & y2;
    let z15 = t42 & y9;
    let z16 = t45 & y14;
    let z17 = t41 & y8;

    // Bottom linear layer.
    let t46 = z15 ^ z16;
    let t47 = z10 ^ z11;
    let t48 = z5 ^ z13;
    let t49 = z9 ^ z10;
    let t50 = z2 ^ z12;
    let t51 = z2 ^ z5;
    let t52 = z7 ^ z8;
    let t53 = z0 ^ z3;
    let t54 = z6 ^ z7;
    let t55 = z16 ^ z17;
    let t56 = z12 ^ t48;
    let t57 = t50 ^ t53;
    let t58 = z4 ^ t46;
    let t59 = z3 ^ t54;
    let t60 = t46 ^ t57;
    let t61 = z14 ^ t57;
    let t62 = t52 ^ t58;
    let t63 = t49 ^ t58;
    let t64 = z4 ^ t59;
    let t65 = t61 ^ t62;
    let t66 = z1 ^ t63;
    let s0 = t59 ^ t63;
    let s6 = t56 ^ !t62;
    let s7 = t48 ^ !t60;
    let t67 = t64 ^ t65;
    let s3 = t53 ^ t66;
    let s4 = t51 ^ t66;
    let s5 = t47 ^ t65;
    let s1 = t64 ^ !s3;
    let s2 = t55 ^ !t67;

    *x = [s7, s6, s5, s4, s3, s2, s1, s0];
}

/// Exchanges the bits of `a` selected by `low` with the bits `shift` above them in `b`: one step
/// of the 8x8 bit transposition below.
#[inline(always)]
fn swap_bits<P: Planes>(a: &mut P, b: &mut P, low: P, shift: u32) {
    let (x, y) = (*a, *b);
    *a = (x & low) | (y & low).shl(shift);
    *b = (x & !low).shr(shift) | (y & !low);
}

/// Eight blocks to bit planes and back (a transposition, so its own inverse): before, `q[j]` is
/// block `j`; after, bit `j` of byte `b` of `q[i]` is bit `i` of byte `b` of block `j`.
#[inline(always)]
fn transpose<P: Planes>(q: &mut [P; 8]) {
    let [q0, q1, q2, q3, q4, q5, q6, q7] = q;
    let m1 = P::load(&[0x55; 16]);
    swap_bits(q0, q1, m1, 1);
    swap_bits(q2, q3, m1, 1);
    swap_bits(q4, q5, m1, 1);
    swap_bits(q6, q7, m1, 1);
    let m2 = P::load(&[0x33; 16]);
    swap_bits(q0, q2, m2, 2);
    swap_bits(q1, q3, m2, 2);
    swap_bits(q4, q6, m2, 2);
    swap_bits(q5, q7, m2, 2);
    let m4 = P::load(&[0x0f; 16]);
    swap_bits(q0, q4, m4, 4);
    swap_bits(q1, q5, m4, 4);
    swap_bits(q2, q6, m4, 4);
    swap_bits(q3, q7, m4, 4);
}

/// MixColumns: each column `a` becomes `2a ^ 3a' ^ a'' ^ a'''` (`'` one row up), computed as
/// `2(a ^ a') ^ a' ^ (a ^ a')''`.
#[inline(always)]
fn mix_columns<P: Planes>(q: &mut [P; 8]) {
    let up1: [P; 8] = core::array::from_fn(|i| q[i].rotate_rows_1());
    let t: [P; 8] = core::array::from_fn(|i| q[i] ^ up1[i]);
    // t times 2 in GF(2^8): bit 7 folds back into bits 0, 1, 3 and 4 (x^8 = x^4 + x^3 + x + 1).
    let t2 = [t[7], t[0] ^ t[7], t[1], t[2] ^ t[7], t[3] ^ t[7], t[4], t[5], t[6]];
    for i in 0..8 {
        q[i] = t2[i] ^ up1[i] ^ t[i].rotate_rows_2();
    }
}

#[inline(always)]
fn add_round_key<P: Planes>(q: &mut [P; 8], key: &[P; 8]) {
    for i in 0..8 {
        q[i] = q[i] ^ key[i];
    }
}

/// An expanded AES key as bit planes: per round, eight planes of all-ones or all-zero bytes.
struct RoundKeys<P: Planes, const R: usize> {
    planes: [[P; 8]; R],
}

impl<P: Planes, const R: usize> RoundKeys<P, R> {
    /// FIPS 197's key expansion, its SubWord made by the same circuit (bytes as lanes), so that
    /// no key byte picks an address. `R` is the number of round keys: 11 or 15.
    ///
    /// Written into `self.planes` where they lie (see [`Gcm::new_boxed`]); every copy of key
    /// material made on the way is wiped.
    fn expand_into(&mut self, key: &[u8]) {
        let nk = key.len() / 4;
        debug_assert!(nk == 4 || nk == 8, "an AES-128 or AES-256 key");
        let mut words = Zeroizing::new([[0u8; 4]; 60]);
        for (word, bytes) in words.iter_mut().zip(key.chunks_exact(4)) {
            word.copy_from_slice(bytes);
        }
        let mut temp = Zeroizing::new([0u8; 4]);
        let mut rcon = 1u8;
        for i in nk..4 * R {
            *temp = words[i - 1];
            if i % nk == 0 {
                temp.rotate_left(1);
                *temp = sub_word(*temp);
                temp[0] ^= rcon;
                rcon = (rcon << 1) ^ (0x1b & 0u8.wrapping_sub(rcon >> 7));
            } else if nk > 6 && i % nk == 4 {
                *temp = sub_word(*temp);
            }
            let before = words[i - nk];
            for ((out, earlier), t) in words[i].iter_mut().zip(before).zip(*temp) {
                *out = earlier ^ t;
            }
        }
        let mut bytes = Zeroizing::new([0u8; 16]);
        for (planes, round) in self.planes.iter_mut().zip(words.chunks_exact(4)) {
            bytes.copy_from_slice(round.as_flattened());
            for (bit, plane) in planes.iter_mut().enumerate() {
                // Every block shares the key: each byte of plane `bit` is all ones or all zeros.
                let mut spread = bytes.map(|byte| 0u8.wrapping_sub((byte >> bit) & 1));
                *plane = P::load(&spread);
                spread.zeroize();
            }
        }
    }

    /// Encrypts eight blocks in place.
    #[inline(always)]
    fn encrypt8(&self, blocks: &mut [[u8; 16]; 8]) {
        let mut q: [P; 8] = core::array::from_fn(|j| P::load(&blocks[j]));
        transpose(&mut q);
        add_round_key(&mut q, &self.planes[0]);
        for key in &self.planes[1..R - 1] {
            sub_bytes(&mut q);
            for plane in &mut q {
                *plane = plane.shift_rows();
            }
            mix_columns(&mut q);
            add_round_key(&mut q, key);
        }
        sub_bytes(&mut q);
        for plane in &mut q {
            *plane = plane.shift_rows();
        }
        add_round_key(&mut q, &self.planes[R - 1]);
        transpose(&mut q);
        for (block, plane) in blocks.iter_mut().zip(q) {
            plane.store(block);
        }
    }
}

impl<P: Planes, const R: usize> Drop for RoundKeys<P, R> {
    fn drop(&mut self) {
        let zero = P::load(&[0; 16]);
        for plane in self.planes.as_flattened_mut() {
            // Volatile, so that the compiler cannot drop the wipe of memory about to be freed.
            // SAFETY: `plane` is a valid, aligned, exclusive reference to a `P`.
            unsafe { core::ptr::write_volatile(plane, zero) };
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }
}

/// SubWord of the key schedule: the four bytes as four lanes of the S-box circuit.
fn sub_word(word: [u8; 4]) -> [u8; 4] {
    let mut bits: [u8; 8] = core::array::from_fn(|i| {
        (0..4).fold(0u8, |acc, lane| acc | (((word[lane] >> i) & 1) << lane))
    });
    sub_bytes(&mut bits);
    let out = core::array::from_fn(|lane| {
        (0..8).fold(0u8, |acc, i| acc | (((bits[i] >> lane) & 1) << i))
    });
    bits.zeroize();
    out
}

/// GCM's longest plaintext (NIST SP 800-38D): 2^39 - 256 bits.
const MAX_LEN: u64 = (1 << 36) - 32;

/// AES-GCM with a 96-bit nonce and a 128-bit tag, over bit planes `P`; `R` round keys.
pub struct Gcm<P: Planes, const R: usize> {
    keys: RoundKeys<P, R>,
    ghash: Ghash,
}

/// The GCM error: a message too long, or a tag that does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcmError;

impl<P: Planes, const R: usize> Gcm<P, R> {
    /// The cipher of `key`, expanded where it will stay: on the heap, so that no copy of the
    /// round keys or of H is left behind by a move (each is wiped on drop).
    ///
    /// # Panics
    /// If `key` is not 16 (`R` = 11) or 32 (`R` = 15) bytes: a programming error.
    pub fn new_boxed(key: &[u8]) -> Box<Self> {
        // AES has Nk + 7 round keys (Nk: the key's length in 32-bit words).
        assert_eq!(key.len(), (R - 7) * 4, "an AES key of the length its rounds need");
        let zero = P::load(&[0; 16]);
        let mut gcm = Box::new(Gcm {
            keys: RoundKeys { planes: [[zero; 8]; R] },
            ghash: Ghash { powers: [[0; 6]; 4] },
        });
        gcm.keys.expand_into(key);
        // H = E(K, 0^128): counter block 0 of the zero nonce.
        gcm.ghash.set_h(&gcm.counter_blocks(&[0; 12], 0)[0]);
        gcm
    }

    /// Encrypts `buf` in place; returns the tag.
    pub fn encrypt(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], GcmError> {
        check_len(aad, buf)?;
        let mut first = self.first_batch(nonce);
        let mask = Zeroizing::new(first[0]);
        self.apply_keystream(nonce, &mut first, buf);
        Ok(xor16(self.tag(aad, buf), *mask))
    }

    /// Checks `tag` and decrypts `buf` in place; on a mismatch `buf` is left as it was.
    pub fn decrypt(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), GcmError> {
        check_len(aad, buf)?;
        let mut first = self.first_batch(nonce);
        let expected = Zeroizing::new(xor16(self.tag(aad, buf), first[0]));
        if !bool::from(expected[..].ct_eq(&tag[..])) {
            return Err(GcmError);
        }
        self.apply_keystream(nonce, &mut first, buf);
        Ok(())
    }

    /// E(K, nonce || c) for the eight counters `c` from `first` on: a frame's first batch, H
    /// (counter block 0 of the zero nonce), and the blocks that sealing with room
    /// ([`super::room`]) works out around an outside AES-GCM. Not inlined: `encrypt8` is, and
    /// each copy of the AES circuit is about 1 KB of the worker after gzip; the call costs a few
    /// ns of a frame.
    #[inline(never)]
    pub(crate) fn counter_blocks(&self, nonce: &[u8; 12], first: u32) -> Zeroizing<[[u8; 16]; 8]> {
        let mut blocks =
            Zeroizing::new(core::array::from_fn(|k| counter_block(nonce, first + k as u32)));
        self.keys.encrypt8(&mut blocks);
        blocks
    }

    /// E(K, J0), the tag's mask, and the first seven keystream blocks (counters 2 to 8): an
    /// Opus frame needs no second pass.
    fn first_batch(&self, nonce: &[u8; 12]) -> Zeroizing<[[u8; 16]; 8]> {
        self.counter_blocks(nonce, 1)
    }

    /// XORs the keystream into `buf`: `batch`'s blocks 1 to 7, then further batches from
    /// counter 9 (`batch` is reused for them and wiped at the end).
    fn apply_keystream(&self, nonce: &[u8; 12], batch: &mut [[u8; 16]; 8], buf: &mut [u8]) {
        let (head, mut rest) = buf.split_at_mut(buf.len().min(7 * 16));
        xor_into(head, &batch.as_flattened()[16..]);
        let mut counter = 9u32;
        while !rest.is_empty() {
            for block in batch.iter_mut() {
                *block = counter_block(nonce, counter);
                counter = counter.wrapping_add(1);
            }
            self.keys.encrypt8(batch);
            let (now, later) = rest.split_at_mut(rest.len().min(8 * 16));
            xor_into(now, batch.as_flattened());
            rest = later;
        }
        batch.zeroize();
    }

    /// GHASH over the AAD, the ciphertext and their lengths in bits.
    fn tag(&self, aad: &[u8], ciphertext: &[u8]) -> [u8; 16] {
        let mut y = [0u64; 2];
        self.ghash.absorb_padded(&mut y, aad);
        self.ghash.absorb_padded(&mut y, ciphertext);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(ciphertext.len() as u64 * 8).to_be_bytes());
        self.ghash.absorb(&mut y, &lengths);
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&y[1].to_be_bytes());
        out[8..].copy_from_slice(&y[0].to_be_bytes());
        out
    }
}

/// GHASH's multiplication by H in GF(2^128), without tables and without branches: each 64-bit
/// carry-less product is four integer products of operands thinned to every fourth bit, so that
/// carries fall into the gaps and are masked away (the "ctmul64" method of Thomas Pornin's
/// BearSSL); three products by Karatsuba, and the upper halves as the lower halves of the
/// bit-reversed operands. Four blocks at a time share one reduction and one reversal of the
/// upper halves (`y' = (y ^ x1)H^4 ^ x2 H^3 ^ x3 H^2 ^ x4 H`, every step of which is linear until
/// the reduction): WebAssembly has no bit-reverse instruction, and a reversal costs about as
/// much as a product. Constant time as long as the engine's 64-bit multiply is (V8 and
/// SpiderMonkey emit the CPU's `imul`, constant time on x86-64 and arm64).
struct Ghash {
    /// H, H^2, H^3, H^4, each as [`Power`].
    powers: [Power; 4],
}

/// One power of H: its halves (low, high, their XOR), then the same bit-reversed.
type Power = [u64; 6];

/// Products of 128-bit values by powers of H, added up before their reduction: low, high and
/// middle products, then the same of the bit-reversed halves.
type Sum = [u64; 6];

impl Ghash {
    fn set_h(&mut self, h: &[u8; 16]) {
        self.powers[0] = power(halves(h));
        // H^k = H^(k-1) * H, by the same multiplication.
        for k in 1..4 {
            let [low, high, ..] = self.powers[k - 1];
            let mut sum = Sum::default();
            mul_add(&mut sum, low, high, &self.powers[0]);
            self.powers[k] = power(reduced(&sum));
            sum.zeroize();
        }
    }

    /// `y = (y ^ block) * H`; `y` as (low, high) halves of the big-endian block.
    #[inline(always)]
    fn absorb(&self, y: &mut [u64; 2], block: &[u8; 16]) {
        let [low, high] = halves(block);
        let mut sum = Sum::default();
        mul_add(&mut sum, y[0] ^ low, y[1] ^ high, &self.powers[0]);
        *y = reduced(&sum);
    }

    /// Every 16-byte block of `data`, the last one padded with zeros.
    fn absorb_padded(&self, y: &mut [u64; 2], data: &[u8]) {
        let (fours, rest) = data.as_chunks::<64>();
        for four in fours {
            let (blocks, _) = four.as_chunks::<16>();
            let mut sum = Sum::default();
            for (k, block) in blocks.iter().enumerate() {
                let [mut low, mut high] = halves(block);
                if k == 0 {
                    (low, high) = (low ^ y[0], high ^ y[1]);
                }
                mul_add(&mut sum, low, high, &self.powers[3 - k]);
            }
            *y = reduced(&sum);
        }
        let (blocks, rest) = rest.as_chunks::<16>();
        for block in blocks {
            self.absorb(y, block);
        }
        if !rest.is_empty() {
            let mut last = [0u8; 16];
            last[..rest.len()].copy_from_slice(rest);
            self.absorb(y, &last);
        }
    }
}

impl Drop for Ghash {
    fn drop(&mut self) {
        // H is as secret as the key: with it, tags can be forged.
        self.powers.zeroize();
    }
}

/// `a · b` in GHASH's field, each a block read as a big-endian `u128` (GCM's bit order): one
/// product of [`Ghash`]'s, for the few that sealing with room ([`super::room`]) works out.
pub(super) fn gf_mul(a: u128, b: u128) -> u128 {
    let (mut sum, mut b) = (Sum::default(), power([b as u64, (b >> 64) as u64]));
    mul_add(&mut sum, a as u64, (a >> 64) as u64, &b);
    let [low, high] = reduced(&sum);
    sum.zeroize();
    b.zeroize();
    (u128::from(high) << 64) | u128::from(low)
}

/// A big-endian block as its (low, high) 64-bit halves.
#[inline(always)]
fn halves(block: &[u8; 16]) -> [u64; 2] {
    let high = u64::from_be_bytes(block[..8].try_into().expect("8 bytes"));
    let low = u64::from_be_bytes(block[8..].try_into().expect("8 bytes"));
    [low, high]
}

fn power([low, high]: [u64; 2]) -> Power {
    let (low_r, high_r) = (low.reverse_bits(), high.reverse_bits());
    [low, high, low ^ high, low_r, high_r, low_r ^ high_r]
}

/// Adds the product of (`low`, `high`) and `h` into `sum`, unreduced.
#[inline(always)]
fn mul_add(sum: &mut Sum, low: u64, high: u64, h: &Power) {
    let (low_r, high_r) = (low.reverse_bits(), high.reverse_bits());
    sum[0] ^= clmul_low(low, h[0]);
    sum[1] ^= clmul_low(high, h[1]);
    sum[2] ^= clmul_low(low ^ high, h[2]);
    sum[3] ^= clmul_low(low_r, h[3]);
    sum[4] ^= clmul_low(high_r, h[4]);
    sum[5] ^= clmul_low(low_r ^ high_r, h[5]);
}

/// The 256-bit product that `sum` holds, reduced: the new (low, high) state.
#[inline(always)]
fn reduced(sum: &Sum) -> [u64; 2] {
    let [z0, z1, z2, z0h, z1h, z2h] = *sum;
    // Karatsuba's middle terms; the upper halves reversed back (linear, so once per sum).
    let z2 = z2 ^ z0 ^ z1;
    let z2h = z2h ^ z0h ^ z1h;
    let (z0h, z1h, z2h) =
        (z0h.reverse_bits() >> 1, z1h.reverse_bits() >> 1, z2h.reverse_bits() >> 1);
    // The 256-bit product, shifted left by one (GHASH's bits are reflected) ...
    let (mut v0, mut v1, mut v2, mut v3) = (z0, z0h ^ z2, z1 ^ z2h, z1h);
    v3 = (v3 << 1) | (v2 >> 63);
    v2 = (v2 << 1) | (v1 >> 63);
    v1 = (v1 << 1) | (v0 >> 63);
    v0 <<= 1;
    // ... reduced modulo x^128 + x^7 + x^2 + x + 1.
    v2 ^= v0 ^ (v0 >> 1) ^ (v0 >> 2) ^ (v0 >> 7);
    v1 ^= (v0 << 63) ^ (v0 << 62) ^ (v0 << 57);
    v3 ^= v1 ^ (v1 >> 1) ^ (v1 >> 2) ^ (v1 >> 7);
    v2 ^= (v1 << 63) ^ (v1 << 62) ^ (v1 << 57);
    [v2, v3]
}

/// The low 64 bits of the carry-less product of `x` and `y`, by integer multiplication. Each
/// part of a factor keeps every fourth bit, so within one integer product the partial products
/// meet only at every fourth bit: at most 15 below bit 60 (a sum that fits in that bit and the
/// three of gap above it), 16 only from bit 60 up, whose carry falls off the end. Each kept bit
/// of a product is then the XOR of the bits that met there, as a carry-less product needs.
#[inline(always)]
fn clmul_low(x: u64, y: u64) -> u64 {
    const M0: u64 = 0x1111_1111_1111_1111;
    const M1: u64 = M0 << 1;
    const M2: u64 = M0 << 2;
    const M3: u64 = M0 << 3;
    let (x0, x1, x2, x3) = (x & M0, x & M1, x & M2, x & M3);
    let (y0, y1, y2, y3) = (y & M0, y & M1, y & M2, y & M3);
    let m = u64::wrapping_mul;
    let z0 = m(x0, y0) ^ m(x1, y3) ^ m(x2, y2) ^ m(x3, y1);
    let z1 = m(x0, y1) ^ m(x1, y0) ^ m(x2, y3) ^ m(x3, y2);
    let z2 = m(x0, y2) ^ m(x1, y1) ^ m(x2, y0) ^ m(x3, y3);
    let z3 = m(x0, y3) ^ m(x1, y2) ^ m(x2, y1) ^ m(x3, y0);
    (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3)
}

fn check_len(aad: &[u8], buf: &[u8]) -> Result<(), GcmError> {
    if buf.len() as u64 > MAX_LEN || aad.len() as u64 > MAX_LEN {
        return Err(GcmError);
    }
    Ok(())
}

/// J0 = nonce || 1 for a 96-bit nonce; block `counter` is nonce || counter (big-endian).
pub(super) fn counter_block(nonce: &[u8; 12], counter: u32) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[..12].copy_from_slice(nonce);
    block[12..].copy_from_slice(&counter.to_be_bytes());
    block
}

fn xor_into(data: &mut [u8], stream: &[u8]) {
    for (byte, key) in data.iter_mut().zip(stream) {
        *byte ^= key;
    }
}

fn xor16(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
    core::array::from_fn(|i| a[i] ^ b[i])
}

/// The planes as WebAssembly's `v128`: what the worker runs.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd {
    use super::{ROTATE_ROWS_1, ROTATE_ROWS_2, SHIFT_ROWS};
    use core::arch::wasm32::*;
    use core::ops::{BitAnd, BitOr, BitXor, Not};

    /// `v`'s bytes moved as the table `from` says (byte `i` takes byte `from[i]`): one
    /// `i8x16.shuffle`, its indices the same constants the portable planes use.
    macro_rules! shuffled {
        ($v:expr, $from:expr) => {{
            let v = $v.0;
            V(i8x16_shuffle::<
                { $from[0] },
                { $from[1] },
                { $from[2] },
                { $from[3] },
                { $from[4] },
                { $from[5] },
                { $from[6] },
                { $from[7] },
                { $from[8] },
                { $from[9] },
                { $from[10] },
                { $from[11] },
                { $from[12] },
                { $from[13] },
                { $from[14] },
                { $from[15] },
            >(v, v))
        }};
    }

    #[derive(Clone, Copy)]
    pub struct V(v128);

    impl BitXor for V {
        type Output = V;
        #[inline(always)]
        fn bitxor(self, o: V) -> V {
            V(v128_xor(self.0, o.0))
        }
    }
    impl BitAnd for V {
        type Output = V;
        #[inline(always)]
        fn bitand(self, o: V) -> V {
            V(v128_and(self.0, o.0))
        }
    }
    impl BitOr for V {
        type Output = V;
        #[inline(always)]
        fn bitor(self, o: V) -> V {
            V(v128_or(self.0, o.0))
        }
    }
    impl Not for V {
        type Output = V;
        #[inline(always)]
        fn not(self) -> V {
            V(v128_not(self.0))
        }
    }

    impl super::Planes for V {
        #[inline(always)]
        fn load(bytes: &[u8; 16]) -> V {
            // SAFETY: 16 readable bytes; v128 loads need no alignment.
            V(unsafe { v128_load(bytes.as_ptr().cast()) })
        }
        #[inline(always)]
        fn store(self, bytes: &mut [u8; 16]) {
            // SAFETY: 16 writable bytes; v128 stores need no alignment.
            unsafe { v128_store(bytes.as_mut_ptr().cast(), self.0) }
        }
        #[inline(always)]
        fn shl(self, n: u32) -> V {
            V(u64x2_shl(self.0, n))
        }
        #[inline(always)]
        fn shr(self, n: u32) -> V {
            V(u64x2_shr(self.0, n))
        }
        #[inline(always)]
        fn shift_rows(self) -> V {
            shuffled!(self, SHIFT_ROWS)
        }
        #[inline(always)]
        fn rotate_rows_1(self) -> V {
            shuffled!(self, ROTATE_ROWS_1)
        }
        #[inline(always)]
        fn rotate_rows_2(self) -> V {
            shuffled!(self, ROTATE_ROWS_2)
        }
    }

    pub type Aes128Gcm = super::Gcm<V, 11>;
    pub type Aes256Gcm = super::Gcm<V, 15>;
}

/// The planes as plain integers, byte for byte what [`simd`] does: the host tests run the
/// circuit and the steps through it.
#[cfg(any(test, not(all(target_arch = "wasm32", target_feature = "simd128"))))]
pub mod portable {
    use core::ops::{BitAnd, BitOr, BitXor, Not};

    #[derive(Clone, Copy)]
    pub struct V([u64; 2]);

    impl BitXor for V {
        type Output = V;
        fn bitxor(self, o: V) -> V {
            V([self.0[0] ^ o.0[0], self.0[1] ^ o.0[1]])
        }
    }
    impl BitAnd for V {
        type Output = V;
        fn bitand(self, o: V) -> V {
            V([self.0[0] & o.0[0], self.0[1] & o.0[1]])
        }
    }
    impl BitOr for V {
        type Output = V;
        fn bitor(self, o: V) -> V {
            V([self.0[0] | o.0[0], self.0[1] | o.0[1]])
        }
    }
    impl Not for V {
        type Output = V;
        fn not(self) -> V {
            V([!self.0[0], !self.0[1]])
        }
    }

    impl V {
        fn bytes(self) -> [u8; 16] {
            let mut out = [0u8; 16];
            super::Planes::store(self, &mut out);
            out
        }
        fn shuffled(self, from: [usize; 16]) -> V {
            let bytes = self.bytes();
            <V as super::Planes>::load(&from.map(|i| bytes[i]))
        }
    }

    impl super::Planes for V {
        fn load(bytes: &[u8; 16]) -> V {
            let (lo, hi) = bytes.split_at(8);
            V([
                u64::from_le_bytes(lo.try_into().expect("8 bytes")),
                u64::from_le_bytes(hi.try_into().expect("8 bytes")),
            ])
        }
        fn store(self, bytes: &mut [u8; 16]) {
            bytes[..8].copy_from_slice(&self.0[0].to_le_bytes());
            bytes[8..].copy_from_slice(&self.0[1].to_le_bytes());
        }
        fn shl(self, n: u32) -> V {
            V([self.0[0] << n, self.0[1] << n])
        }
        fn shr(self, n: u32) -> V {
            V([self.0[0] >> n, self.0[1] >> n])
        }
        fn shift_rows(self) -> V {
            self.shuffled(super::SHIFT_ROWS)
        }
        fn rotate_rows_1(self) -> V {
            self.shuffled(super::ROTATE_ROWS_1)
        }
        fn rotate_rows_2(self) -> V {
            self.shuffled(super::ROTATE_ROWS_2)
        }
    }

    pub type Aes128Gcm = super::Gcm<V, 11>;
    pub type Aes256Gcm = super::Gcm<V, 15>;
}

#[cfg(test)]
mod tests {
    use super::portable::V;
    use super::*;
    use aes_gcm::KeyInit;
    use aes_gcm::aead::{AeadInPlace, Nonce};

    /// The S-box from its definition: the inverse in GF(2^8) (0 to 0), then the affine map.
    fn sbox_by_definition(x: u8) -> u8 {
        let mul = |mut a: u8, mut b: u8| {
            let mut p = 0u8;
            while b != 0 {
                if b & 1 != 0 {
                    p ^= a;
                }
                a = (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 };
                b >>= 1;
            }
            p
        };
        let inv = (1..=255u8).find(|&y| mul(x, y) == 1).unwrap_or(0);
        inv ^ inv.rotate_left(1)
            ^ inv.rotate_left(2)
            ^ inv.rotate_left(3)
            ^ inv.rotate_left(4)
            ^ 0x63
    }

    #[test]
    fn the_circuit_is_the_s_box_for_every_byte() {
        for x in 0..=255u8 {
            let word = [x, x ^ 0x5a, x.wrapping_mul(7), !x];
            assert_eq!(sub_word(word), word.map(sbox_by_definition), "S-box of {x:#04x}");
        }
    }

    fn block_hex(block: [u8; 16]) -> String {
        block.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn expanded<const R: usize>(key: &[u8]) -> RoundKeys<V, R> {
        let mut keys = RoundKeys { planes: [[V::load(&[0; 16]); 8]; R] };
        keys.expand_into(key);
        keys
    }

    #[test]
    fn fips_197_examples_encrypt_in_every_one_of_the_eight_slots() {
        let plain: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let mut blocks = [plain; 8];
        expanded::<11>(&key[..16]).encrypt8(&mut blocks);
        for block in blocks {
            assert_eq!(block_hex(block), "69c4e0d86a7b0430d8cdb78070b4c55a"); // FIPS 197, C.1
        }
        let mut blocks = [plain; 8];
        expanded::<15>(&key).encrypt8(&mut blocks);
        for block in blocks {
            assert_eq!(block_hex(block), "8ea2b7ca516745bfeafc49904b496089"); // FIPS 197, C.3
        }
    }

    /// Sizes around every batch edge (7 blocks in the first, 8 after), and video-frame sizes.
    const SIZES: [usize; 14] = [0, 1, 15, 16, 17, 111, 112, 113, 240, 241, 1000, 1024, 4099, 16384];

    /// Seals frames of every size of [`SIZES`] with `R` round keys and with `A`, the `aes-gcm`
    /// crate's cipher of the same key length; AAD of several lengths.
    fn same_as_aes_gcm<const R: usize, A: AeadInPlace + KeyInit>() {
        for (n, &len) in SIZES.iter().enumerate() {
            let key: Vec<u8> = (0..(R - 7) * 4).map(|i| (i * 31 + n * 7) as u8).collect();
            let nonce: [u8; 12] = core::array::from_fn(|i| (i * 13 + n) as u8);
            let aad: Vec<u8> = (0..(n * 3) % 20).map(|i| i as u8).collect();
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 + n) as u8).collect();
            let (mut ours, mut theirs) = (plain.clone(), plain.clone());
            let tag = Gcm::<V, R>::new_boxed(&key).encrypt(&nonce, &aad, &mut ours).unwrap();
            let their_tag = A::new_from_slice(&key)
                .unwrap()
                .encrypt_in_place_detached(Nonce::<A>::from_slice(&nonce), &aad, &mut theirs)
                .expect("sealed");
            assert_eq!(ours, theirs, "ciphertext of {len} bytes");
            assert_eq!(tag[..], their_tag[..], "tag of {len} bytes");
        }
    }

    #[test]
    fn seals_byte_for_byte_as_the_aes_gcm_crate_does() {
        same_as_aes_gcm::<11, aes_gcm::Aes128Gcm>();
        same_as_aes_gcm::<15, aes_gcm::Aes256Gcm>();
    }

    fn opens_and_refuses<const R: usize>() {
        let gcm = Gcm::<V, R>::new_boxed(&vec![9; (R - 7) * 4]);
        let nonce = [3; 12];
        for len in SIZES {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut sealed = plain.clone();
            let tag = gcm.encrypt(&nonce, b"header", &mut sealed).unwrap();

            let mut opened = sealed.clone();
            gcm.decrypt(&nonce, b"header", &mut opened, &tag).unwrap();
            assert_eq!(opened, plain);

            let mut bad_tag = tag;
            bad_tag[15] ^= 1;
            let mut frame = sealed.clone();
            assert_eq!(gcm.decrypt(&nonce, b"header", &mut frame, &bad_tag), Err(GcmError));
            assert_eq!(frame, sealed, "a refused frame is left as it was");
            assert_eq!(gcm.decrypt(&nonce, b"headeR", &mut frame, &tag), Err(GcmError));
            if len > 0 {
                frame[len / 2] ^= 0x80;
                assert_eq!(gcm.decrypt(&nonce, b"header", &mut frame, &tag), Err(GcmError));
            }
            let mut other_nonce = nonce;
            other_nonce[11] ^= 1;
            let mut frame = sealed.clone();
            assert_eq!(gcm.decrypt(&other_nonce, b"header", &mut frame, &tag), Err(GcmError));
        }
    }

    #[test]
    fn opens_what_it_sealed_and_refuses_any_changed_byte_leaving_the_frame_as_it_was() {
        opens_and_refuses::<11>();
        opens_and_refuses::<15>();
    }
}
