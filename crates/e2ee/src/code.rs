//! The 20-digit security code both people read aloud to rule out a man in the middle.

use sha2::{Digest, Sha256};

use crate::keys::TranscriptHash;

/// 20 decimal digits derived from the transcript hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecurityCode([u8; 20]);

impl SecurityCode {
    /// `n = SHA-256("shieldcall/v1/code" || TH)[0..10]` big-endian, `n mod 10^20`, 20 digits.
    pub fn from_transcript(th: &TranscriptHash) -> SecurityCode {
        let digest =
            Sha256::new().chain_update(b"shieldcall/v1/code").chain_update(th.0).finalize();
        let mut n = digest[..10].iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
        n %= 10u128.pow(20);
        let mut digits = [b'0'; 20];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        SecurityCode(digits)
    }

    /// The 20 digits without spaces.
    pub fn digits(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).expect("digits are ASCII")
    }

    /// Four groups of five digits, as shown: `12345 67890 12345 67890`.
    pub fn groups(&self) -> [&str; 4] {
        let d = self.digits();
        [&d[0..5], &d[5..10], &d[10..15], &d[15..20]]
    }
}

impl std::fmt::Display for SecurityCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.groups().join(" "))
    }
}

impl std::fmt::Debug for SecurityCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecurityCode({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // SHA-256("shieldcall/v1/code" || 32 zero bytes), first 10 bytes, mod 10^20:
        // computed independently with Python's hashlib.
        let code = SecurityCode::from_transcript(&TranscriptHash([0; 32]));
        assert_eq!(code.digits().len(), 20);
        assert_eq!(code.digits(), KNOWN);
        assert_eq!(code.to_string().len(), 23);
        assert_eq!(code.to_string(), code.groups().join(" "));
    }

    const KNOWN: &str = "80155313062208640273";
}
