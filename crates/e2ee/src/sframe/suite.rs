//! SFrame cipher suites (RFC 9605 §4.5, §8.1).

/// An SFrame cipher suite. Both parties must use the same one: v1 fixes the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// 0x0001: AES-128-CTR with HMAC-SHA256, 80-bit tag.
    #[cfg(feature = "every-suite")]
    AesCtr128HmacSha256_80,
    /// 0x0002: AES-128-CTR with HMAC-SHA256, 64-bit tag.
    #[cfg(feature = "every-suite")]
    AesCtr128HmacSha256_64,
    /// 0x0003: AES-128-CTR with HMAC-SHA256, 32-bit tag.
    #[cfg(feature = "every-suite")]
    AesCtr128HmacSha256_32,
    /// 0x0004: AES-128-GCM with SHA-256 for key derivation; the Shieldcall default.
    #[default]
    Aes128GcmSha256_128,
    /// 0x0005: AES-256-GCM with SHA-512 for key derivation.
    #[cfg(feature = "every-suite")]
    Aes256GcmSha512_128,
}

/// A cipher suite number this crate does not implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownSuite(pub u16);

impl std::fmt::Display for UnknownSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown SFrame cipher suite 0x{:04x}", self.0)
    }
}

impl std::error::Error for UnknownSuite {}

impl CipherSuite {
    /// Every suite, in registry order.
    #[cfg(feature = "every-suite")]
    pub const ALL: [CipherSuite; 5] = [
        CipherSuite::AesCtr128HmacSha256_80,
        CipherSuite::AesCtr128HmacSha256_64,
        CipherSuite::AesCtr128HmacSha256_32,
        CipherSuite::Aes128GcmSha256_128,
        CipherSuite::Aes256GcmSha512_128,
    ];

    /// Every suite built in (see the feature `every-suite`).
    #[cfg(not(feature = "every-suite"))]
    pub const ALL: [CipherSuite; 1] = [CipherSuite::Aes128GcmSha256_128];

    /// The IANA registry value, also written into the key and salt labels.
    pub const fn id(self) -> u16 {
        match self {
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_80 => 1,
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_64 => 2,
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_32 => 3,
            CipherSuite::Aes128GcmSha256_128 => 4,
            #[cfg(feature = "every-suite")]
            CipherSuite::Aes256GcmSha512_128 => 5,
        }
    }

    /// The suite with registry value `id`, if it is built in.
    pub const fn from_id(id: u16) -> Result<Self, UnknownSuite> {
        Ok(match id {
            #[cfg(feature = "every-suite")]
            1 => CipherSuite::AesCtr128HmacSha256_80,
            #[cfg(feature = "every-suite")]
            2 => CipherSuite::AesCtr128HmacSha256_64,
            #[cfg(feature = "every-suite")]
            3 => CipherSuite::AesCtr128HmacSha256_32,
            4 => CipherSuite::Aes128GcmSha256_128,
            #[cfg(feature = "every-suite")]
            5 => CipherSuite::Aes256GcmSha512_128,
            other => return Err(UnknownSuite(other)),
        })
    }

    /// `Nh`: output size of the suite's hash, which is also the ratcheted base key's length.
    pub const fn nh(self) -> usize {
        match self {
            #[cfg(feature = "every-suite")]
            CipherSuite::Aes256GcmSha512_128 => 64,
            _ => 32,
        }
    }

    /// `Nk`: length of the AEAD key (for the CTR suites, encryption key plus HMAC key).
    pub const fn nk(self) -> usize {
        match self {
            CipherSuite::Aes128GcmSha256_128 => 16,
            #[cfg(feature = "every-suite")]
            CipherSuite::Aes256GcmSha512_128 => 32,
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32 => 48,
        }
    }

    /// `Nn`: nonce length, the same for every suite.
    pub const fn nn(self) -> usize {
        NONCE_LEN
    }

    /// `Nt`: tag length.
    pub const fn nt(self) -> usize {
        match self {
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_80 => 10,
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_64 => 8,
            #[cfg(feature = "every-suite")]
            CipherSuite::AesCtr128HmacSha256_32 => 4,
            _ => 16,
        }
    }
}

/// `Nn` for every suite defined so far.
pub const NONCE_LEN: usize = 12;

/// The longest `Nt`, so tags fit in a fixed array.
pub const MAX_TAG_LEN: usize = 16;

/// The longest `Nk`.
pub const MAX_KEY_LEN: usize = 48;
