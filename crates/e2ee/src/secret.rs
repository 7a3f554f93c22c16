//! Secret byte strings: zeroized on drop, never printed.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// An SFrame base key (RFC 9605 `base_key`): the secret one sending direction derives its frame
/// keys from. Its length is `Nk` as agreed, `Nh` after a ratchet step.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BaseKey(Vec<u8>);

impl BaseKey {
    /// Takes ownership of `bytes`, so no copy of the secret is left behind.
    pub fn new(bytes: Vec<u8>) -> Self {
        BaseKey(bytes)
    }

    /// Copies `bytes`; the caller remains responsible for its own copy.
    pub fn from_slice(bytes: &[u8]) -> Self {
        BaseKey(bytes.to_vec())
    }

    /// The secret bytes, for handing to the worker or deriving keys.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for BaseKey {
    /// Constant-time, so comparing keys in tests or assertions leaks nothing through timing.
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for BaseKey {}

impl std::fmt::Debug for BaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BaseKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = BaseKey::new(vec![0xAB; 16]);
        let text = format!("{key:?}");
        assert_eq!(text, "BaseKey(<redacted>)");
        assert!(!text.contains("171") && !text.to_lowercase().contains("ab,"));
    }
}
