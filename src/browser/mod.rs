//! Browser APIs as hooks over web-sys, each cleaning up after itself.

pub mod deposit;
pub mod peer;
pub mod task;
pub mod timeline;
pub mod use_audio_level;
pub mod use_captions;
pub mod use_local_media;
pub mod use_media_query;
pub mod use_recorder;
pub mod use_relay;
pub mod use_shortcuts;
pub mod worker;
