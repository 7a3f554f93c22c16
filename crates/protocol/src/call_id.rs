//! A call's id: 16 random bytes, spelled as 22 base64url characters in the link and in the
//! relay's route `/ws/{call_id}`.

use crate::base64url::{decode16, encode16};

/// A call's id: 16 random bytes (the caller draws them; this crate has no randomness).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId([u8; 16]);

/// A text that is not a call id: not exactly 22 canonical base64url characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidCallId;

impl std::fmt::Display for InvalidCallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call id is not valid")
    }
}

impl std::error::Error for InvalidCallId {}

impl CallId {
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        CallId(bytes)
    }

    /// Validates a call id as it appears in a link or the relay route.
    pub fn parse(text: &str) -> Result<Self, InvalidCallId> {
        decode16(text).map(CallId).ok_or(InvalidCallId)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&encode16(&self.0))
    }
}

impl std::fmt::Debug for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CallId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_22_canonical_characters() {
        let id = CallId::from_bytes([0xfb; 16]);
        let text = id.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(CallId::parse(&text), Ok(id));
        assert_eq!(format!("{id:?}"), format!("CallId({text})"));
        assert_eq!(CallId::parse("short"), Err(InvalidCallId));
        assert_eq!(CallId::parse(&format!("{text}A")), Err(InvalidCallId));
        assert_eq!(CallId::parse("++++++++++++++++++++++"), Err(InvalidCallId));
        // Last character with non-zero trailing bits: same bytes, other spelling, refused.
        let mut other = text.clone();
        other.pop();
        other.push('8');
        assert_eq!(CallId::parse(&other), Err(InvalidCallId));
    }
}
