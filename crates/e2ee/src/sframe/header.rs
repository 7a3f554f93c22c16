//! The SFrame header (RFC 9605 §4.3).
//!
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//! |X|  K  |Y|  C  |   KID... (0-8 bytes)      |   CTR... (0-8 bytes)      |
//! +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//! ```
//! `X = 0`: `K` is the KID itself (0-7); `X = 1`: the KID follows in `K + 1` bytes, big-endian.
//! `Y` and `C` do the same for the counter.

/// Key ID and counter of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub kid: u64,
    pub ctr: u64,
}

/// The longest header: the config byte plus 8 bytes each of KID and CTR.
pub const MAX_HEADER_LEN: usize = 17;

/// Bytes that do not start with a complete SFrame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedHeader;

impl std::fmt::Display for MalformedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("truncated SFrame header")
    }
}

impl std::error::Error for MalformedHeader {}

/// An encoded header on the stack, so encoding never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncodedHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl EncodedHeader {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncodedHeader({:02x?})", self.as_bytes())
    }
}

/// Bytes needed for `value` in the extended form; 0 when it fits in the 3-bit field.
const fn extended_len(value: u64) -> usize {
    if value < 8 { 0 } else { (64 - value.leading_zeros() as usize).div_ceil(8) }
}

impl Header {
    pub const fn new(kid: u64, ctr: u64) -> Self {
        Header { kid, ctr }
    }

    /// Length of the minimal encoding.
    pub const fn encoded_len(&self) -> usize {
        1 + extended_len(self.kid) + extended_len(self.ctr)
    }

    /// The minimal encoding, as every sender must write it.
    pub fn encode(&self) -> EncodedHeader {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let mut len = 1;
        let mut config = 0u8;
        for (value, shift) in [(self.kid, 4), (self.ctr, 0)] {
            let n = extended_len(value);
            if n == 0 {
                // The value fits in the 3 bits (checked by extended_len).
                config |= (value as u8) << shift;
            } else {
                config |= (0x8 | (n as u8 - 1)) << shift;
                bytes[len..len + n].copy_from_slice(&value.to_be_bytes()[8 - n..]);
                len += n;
            }
        }
        bytes[0] = config;
        EncodedHeader { bytes, len }
    }

    /// Reads a header from the start of `bytes`; returns it and its length.
    ///
    /// Non-minimal encodings are accepted: RFC 9605 (§4.3) has senders write the shortest form
    /// but does not have receivers refuse others, and they cannot be used to forge anything
    /// because the header bytes are authenticated as they appear.
    pub fn parse(bytes: &[u8]) -> Result<(Header, usize), MalformedHeader> {
        let (&config, rest) = bytes.split_first().ok_or(MalformedHeader)?;
        let mut pos = 0;
        let mut field = |bits: u8| -> Result<u64, MalformedHeader> {
            if bits & 0x8 == 0 {
                return Ok(u64::from(bits & 0x7));
            }
            let n = usize::from(bits & 0x7) + 1;
            let slice = rest.get(pos..pos + n).ok_or(MalformedHeader)?;
            pos += n;
            Ok(slice.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        };
        let kid = field(config >> 4)?;
        let ctr = field(config & 0xf)?;
        Ok((Header { kid, ctr }, 1 + pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_live_in_the_config_byte() {
        assert_eq!(Header::new(0, 0).encode().as_bytes(), [0x00]);
        assert_eq!(Header::new(7, 7).encode().as_bytes(), [0x77]);
        assert_eq!(Header::new(8, 0).encode().as_bytes(), [0x80, 0x08]);
        assert_eq!(Header::new(0x123, 0x4567).encode().as_bytes(), [0x99, 0x01, 0x23, 0x45, 0x67]);
    }

    #[test]
    fn longest_header_is_seventeen_bytes() {
        let header = Header::new(u64::MAX, u64::MAX);
        assert_eq!(header.encode().as_bytes().len(), MAX_HEADER_LEN);
        assert_eq!(Header::parse(header.encode().as_bytes()), Ok((header, MAX_HEADER_LEN)));
    }

    #[test]
    fn truncated_headers_are_refused() {
        assert_eq!(Header::parse(&[]), Err(MalformedHeader));
        assert_eq!(Header::parse(&[0x99, 0x01, 0x23, 0x45]), Err(MalformedHeader));
        assert_eq!(Header::parse(&[0xf0]), Err(MalformedHeader));
    }

    #[test]
    fn non_minimal_encodings_parse() {
        assert_eq!(Header::parse(&[0x88, 0x01, 0x02]), Ok((Header::new(1, 2), 3)));
    }
}
