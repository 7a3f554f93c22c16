//! The byte layout of the media worker's boundary ([`crate::WorkerCommand`],
//! [`crate::WorkerEvent`], [`crate::TransformOptions`]): a tag byte per enum, integers
//! little-endian at their full width, text and bytes as a `u32` length and then the bytes.
//!
//! Why not JSON like the other boundaries: the page and the worker always ship together, so
//! the layout needs no field names and no versioning, and a JSON parser with serde's
//! deserialisers was about a third of the worker's code (floats included, which no message
//! has). Reading is strict: an unknown tag, a short message or bytes left over is an error
//! that says which.

/// Builds one message.
#[derive(Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    pub fn new() -> Self {
        Writer(Vec::new())
    }

    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.0.push(value);
        self
    }

    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Bytes of any length that fits a `u32` (every message does: the page caps chat text at
    /// 4 KiB and a frame at its data channel's message size).
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        let len = u32::try_from(value.len()).expect("a worker message field under 4 GiB");
        self.u32(len);
        self.0.extend_from_slice(value);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Why a message could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackedError {
    /// The message ended inside `what`.
    Short { what: &'static str },
    /// `what` has a tag that names nothing.
    UnknownTag { what: &'static str, tag: u8 },
    /// `what` was read whole and `left` bytes follow it.
    LeftOver { what: &'static str, left: usize },
    /// Text that is not UTF-8.
    NotUtf8 { what: &'static str },
    /// A value that is out of its range (a slot number that names no slot, ...).
    Invalid(String),
}

impl std::fmt::Display for PackedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackedError::Short { what } => write!(f, "the message ends inside its {what}"),
            PackedError::UnknownTag { what, tag } => write!(f, "{what} {tag} is unknown"),
            PackedError::LeftOver { what, left } => {
                write!(f, "{left} bytes follow the end of the {what}")
            }
            PackedError::NotUtf8 { what } => write!(f, "the {what} is not UTF-8"),
            PackedError::Invalid(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for PackedError {}

/// Reads one message, front to back.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader(bytes)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PackedError> {
        if self.0.len() < n {
            return Err(PackedError::Short { what });
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], PackedError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, PackedError> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, PackedError> {
        self.array(what).map(u16::from_le_bytes)
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, PackedError> {
        self.array(what).map(u32::from_le_bytes)
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, PackedError> {
        self.array(what).map(u64::from_le_bytes)
    }

    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], PackedError> {
        let len = self.u32(what)?;
        // On a 16-bit target a length might not fit; it could not be there either.
        let len = usize::try_from(len).map_err(|_| PackedError::Short { what })?;
        self.take(len, what)
    }

    pub fn text(&mut self, what: &'static str) -> Result<&'a str, PackedError> {
        std::str::from_utf8(self.bytes(what)?).map_err(|_| PackedError::NotUtf8 { what })
    }

    /// The message must end here.
    pub fn end(self, what: &'static str) -> Result<(), PackedError> {
        match self.0.len() {
            0 => Ok(()),
            left => Err(PackedError::LeftOver { what, left }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_and_nothing_more() {
        let bytes = Writer::new()
            .u8(7)
            .u16(0xBEEF)
            .u32(0xDEAD_BEEF)
            .u64(u64::MAX - 1)
            .text("héllo")
            .bytes(&[])
            .finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u16("b").unwrap(), 0xBEEF);
        assert_eq!(r.u32("c").unwrap(), 0xDEAD_BEEF);
        assert_eq!(r.u64("d").unwrap(), u64::MAX - 1);
        assert_eq!(r.text("e").unwrap(), "héllo");
        assert_eq!(r.bytes("f").unwrap(), b"");
        r.end("message").unwrap();
    }

    #[test]
    fn every_cut_of_a_message_is_refused_as_short() {
        let bytes = Writer::new().u8(1).u64(2).text("three").finish();
        for cut in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..cut]);
            let read = (|| {
                r.u8("tag")?;
                r.u64("epoch")?;
                r.text("text")
            })();
            assert!(matches!(read, Err(PackedError::Short { .. })), "cut at {cut}");
        }
    }

    #[test]
    fn lengths_past_the_end_left_overs_and_bad_text_say_so() {
        let huge = Writer::new().u32(u32::MAX).u8(0).finish();
        let error = Reader::new(&huge).bytes("frame").unwrap_err();
        assert_eq!(error.to_string(), "the message ends inside its frame");
        let mut r = Reader::new(&[1, 2, 3]);
        r.u8("tag").unwrap();
        assert_eq!(
            r.end("command").unwrap_err().to_string(),
            "2 bytes follow the end of the command"
        );
        let bad = Writer::new().bytes(&[0xFF, 0xFE]).finish();
        let error = Reader::new(&bad).text("chat text").unwrap_err();
        assert_eq!(error.to_string(), "the chat text is not UTF-8");
    }
}
