//! Composable hashes of feature names, so analysis looks features up without building strings.
//!
//! A feature name is a concatenation of a few pieces (`"w0:"` + a token's normalised form,
//! `"b-1:"` + word + `" "` + word, …). The hash used here is a polynomial over the bytes,
//! `H(c1 … cn) = Σ (ci + 1) · B^(n-i)` (mod 2^64), so the hash of a concatenation follows from the
//! hashes of its pieces in O(1): `H(a ‖ b) = H(a) · B^|b| + H(b)`. A [`Piece`] carries its bytes,
//! its hash and `B^len`; every token computes its own once ([`crate::tokens::Token`]), every
//! constant prefix is a `const`.
//!
//! The hash only *finds a candidate*: [`crate::features::FeatureIndex`] then compares the stored
//! name with the pieces byte by byte, so a lookup is exactly a string lookup, whatever the hash
//! quality (collisions only cost a failed comparison).

/// Multiplier of the polynomial hash (odd, from the golden ratio).
pub const BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash and `BASE^len` of `bytes`.
#[inline]
pub const fn hash_bytes(bytes: &[u8]) -> (u64, u64) {
    let mut h = 0u64;
    let mut pw = 1u64;
    let mut i = 0;
    while i < bytes.len() {
        h = h.wrapping_mul(BASE).wrapping_add(bytes[i] as u64 + 1);
        pw = pw.wrapping_mul(BASE);
        i += 1;
    }
    (h, pw)
}

/// `BASE^k` for k = 0..=8.
const POWERS: [u64; 9] = {
    let mut p = [1u64; 9];
    let mut k = 1;
    while k < 9 {
        p[k] = p[k - 1].wrapping_mul(BASE);
        k += 1;
    }
    p
};

/// `Σ BASE^k` for k = 0..8: the `+ 1` of eight bytes, added once per eight bytes.
const ONES_8: u64 = {
    let mut s = 0u64;
    let mut k = 0;
    while k < 8 {
        s = s.wrapping_add(POWERS[k]);
        k += 1;
    }
    s
};

/// `Σ BASE^k` for k = 0..4.
const ONES_4: u64 = POWERS[0]
    .wrapping_add(POWERS[1])
    .wrapping_add(POWERS[2])
    .wrapping_add(POWERS[3]);

/// `hash_bytes(bytes).0`, eight bytes per step (Horner's rule over blocks of eight, then one of
/// four: one multiply on the dependency chain per block instead of one per byte), and whether
/// `bytes` is ASCII.
/// The same value as [`hash_bytes`], bit for bit, for any input.
#[inline]
pub fn hash_and_ascii(bytes: &[u8]) -> (u64, bool) {
    let mut h = 0u64;
    let mut high = 0u64;
    let mut blocks = bytes.chunks_exact(8);
    for block in &mut blocks {
        let mut b = [0u8; 8];
        b.copy_from_slice(block);
        let w = u64::from_le_bytes(b);
        high |= w;
        let mut sum = ONES_8;
        let mut k = 0;
        while k < 8 {
            sum = sum.wrapping_add(u64::from(b[k]).wrapping_mul(POWERS[7 - k]));
            k += 1;
        }
        h = h.wrapping_mul(POWERS[8]).wrapping_add(sum);
    }
    let mut rest = blocks.remainder();
    if let Some((b, tail)) = rest.split_first_chunk::<4>() {
        high |= u64::from(u32::from_le_bytes(*b));
        let sum = (u64::from(b[0]).wrapping_mul(POWERS[3]))
            .wrapping_add(u64::from(b[1]).wrapping_mul(POWERS[2]))
            .wrapping_add(u64::from(b[2]).wrapping_mul(POWERS[1]))
            .wrapping_add(u64::from(b[3]))
            .wrapping_add(ONES_4);
        h = h.wrapping_mul(POWERS[4]).wrapping_add(sum);
        rest = tail;
    }
    let mut ascii = high & 0x8080_8080_8080_8080 == 0;
    for &c in rest {
        h = h.wrapping_mul(BASE).wrapping_add(u64::from(c) + 1);
        ascii &= c < 0x80;
    }
    (h, ascii)
}

/// Hash of `a ‖ b` from the hash of `a` and the hash and `BASE^|b|` of `b`.
#[inline(always)]
pub const fn concat(ha: u64, hb: u64, pwb: u64) -> u64 {
    ha.wrapping_mul(pwb).wrapping_add(hb)
}

/// Hash of `a ‖ " "` from the hash of `a`.
#[inline(always)]
pub const fn push_space(ha: u64) -> u64 {
    ha.wrapping_mul(BASE).wrapping_add(b' ' as u64 + 1)
}

/// Spreads a polynomial hash over all 64 bits (its low bits alone are weak) before it indexes
/// a hash table (the splitmix64 finaliser).
#[inline(always)]
pub const fn mix(h: u64) -> u64 {
    let mut z = h;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One piece of a feature name: its text, hash and `BASE^len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The text.
    pub text: &'a str,
    /// Polynomial hash of the text.
    pub hash: u64,
    /// `BASE^len`.
    pub pow: u64,
}

impl<'a> Piece<'a> {
    /// A piece of any text (hashes it).
    #[inline]
    pub const fn new(text: &'a str) -> Self {
        let (hash, pow) = hash_bytes(text.as_bytes());
        Piece { text, hash, pow }
    }

    /// A piece whose hash is already known (`hash_bytes(text)`).
    #[inline(always)]
    pub const fn with_hash(text: &'a str, hash: u64, pow: u64) -> Self {
        Piece { text, hash, pow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenation_is_compositional() {
        let (ha, _) = hash_bytes(b"w0:");
        let (hb, pb) = hash_bytes(b"shameful");
        assert_eq!(concat(ha, hb, pb), hash_bytes(b"w0:shameful").0);
        let (hc, pc) = hash_bytes(b"act");
        assert_eq!(
            concat(push_space(concat(ha, hb, pb)), hc, pc),
            hash_bytes(b"w0:shameful act").0
        );
        assert_ne!(hash_bytes(b"").0, hash_bytes(b"\0").0);
    }

    #[test]
    fn block_hash_is_the_byte_hash() {
        let mut rng = crate::test_support::XorShift::new(0x9E37_79B9_7F4A_7C15);
        let mut bytes = Vec::new();
        for len in 0..200 {
            for _ in 0..5 {
                bytes.clear();
                for _ in 0..len {
                    let state = rng.next();
                    // Mostly ASCII, sometimes a high byte (anywhere in a block or the tail).
                    let b = state as u8;
                    bytes.push(if state.is_multiple_of(7) {
                        b | 0x80
                    } else {
                        b & 0x7F
                    });
                }
                let got = hash_and_ascii(&bytes);
                assert_eq!(got, (hash_bytes(&bytes).0, bytes.is_ascii()), "{bytes:?}");
            }
        }
        assert_eq!(
            hash_and_ascii(&[0xFF; 16]),
            (hash_bytes(&[0xFF; 16]).0, false)
        );
    }
}
