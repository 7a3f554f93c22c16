//! Shieldcall's media worker.
