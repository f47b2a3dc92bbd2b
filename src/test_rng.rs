//! A small deterministic random sequence for the unit tests (xorshift64).

/// Marsaglia's xorshift64: each call of [`XorShift::next`] steps the state and returns it.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A sequence from `seed` (not zero).
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed)
    }

    /// The next number of the sequence.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
