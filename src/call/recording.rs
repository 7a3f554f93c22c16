//! What a recording takes: the other person's camera, and both voices mixed in an audio graph.

use js_sys::Array;
use shieldcall_e2ee::layout::Slot;
use web_sys::MediaStream;

use super::Call;
use crate::browser::peer::{MediaKind, first_track};

/// A recording's stream, with the audio graph that mixes the two voices (closed when this is
/// dropped: a recording over, or one made again after it failed to start).
pub struct RecordingMix {
    pub stream: MediaStream,
    context: web_sys::AudioContext,
}

impl Drop for RecordingMix {
    fn drop(&mut self) {
        let _ = self.context.close();
    }
}

impl Call {
    pub(super) fn recording_mix(&self) -> Option<RecordingMix> {
        let media = self.link.as_ref()?.media.as_ref()?;
        let context = web_sys::AudioContext::new().ok()?;
        let destination = context.create_media_stream_destination().ok()?;
        let mut sources = vec![media.remote_track(Slot::MicAudio)];
        sources.push(self.camera.as_ref().and_then(|c| first_track(c, MediaKind::Audio)));
        for track in sources.into_iter().flatten() {
            let stream = MediaStream::new_with_tracks(&Array::of1(&track)).ok()?;
            let source = context.create_media_stream_source(&stream).ok()?;
            let _ = source.connect_with_audio_node(&destination);
        }
        let stream = destination.stream();
        if let Some(video) = media.remote_track(Slot::Camera) {
            stream.add_track(&video);
        }
        Some(RecordingMix { stream, context })
    }
}
