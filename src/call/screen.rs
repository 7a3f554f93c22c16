//! Screen sharing both ways: this person's screen sent on its own transceivers (started and
//! stopped here, or by the browser's own button), and the other person's shown while its
//! frames arrive.

use std::cell::RefCell;
use std::rc::Weak;

use js_sys::Array;
use leptos::prelude::*;
use shieldcall_e2ee::layout::Slot;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::MediaStream;

use super::{Call, notice, stop_tracks, with_call};
use crate::browser::peer::{MediaKind, MediaTransceivers, first_track};

/// A remote screen share with no new frame for this long is taken off the stage.
pub(super) const SCREEN_SHARE_IDLE_MS: f64 = 2500.0;

impl Call {
    pub(super) fn toggle_screen_share(&mut self, weak: Weak<RefCell<Call>>) {
        if let Some(screen) = self.screen.take() {
            stop_tracks(&screen);
            self.set.sharing.set(false);
            if let Some(link) = &self.link {
                let media = link.media.clone();
                spawn_local(async move {
                    let _ = media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, None).await;
                });
            }
            return;
        }
        spawn_local(async move {
            let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok())
            else {
                return;
            };
            let constraints = web_sys::DisplayMediaStreamConstraints::new();
            constraints.set_video(&true.into());
            constraints.set_audio(&true.into());
            let Ok(request) = devices.get_display_media_with_constraints(&constraints) else {
                return;
            };
            let screen: MediaStream = match JsFuture::from(request).await {
                Ok(stream) => stream.unchecked_into(),
                Err(_) => {
                    with_call(&weak, |c| {
                        notice(c.set, "Screen sharing was cancelled or blocked.".into())
                    });
                    return;
                }
            };
            let mut media = None;
            with_call(&weak, |c| {
                c.screen = Some(Clone::clone(&screen));
                c.set.sharing.set(true);
                if first_track(&screen, MediaKind::Audio).is_none() {
                    // Firefox never shares sound; Chromium only when the person ticks it.
                    notice(c.set, "Your screen is shared without its sound.".into());
                }
                media = c.link.as_ref().map(|link| link.media.clone());
            });
            // The browser's own "Stop sharing" ends the track: follow it.
            if let Some(video) = first_track(&screen, MediaKind::Video) {
                let weak = weak.clone();
                let on_ended = Closure::once_into_js(move || {
                    with_call(&weak, |c| {
                        if c.screen.is_some() {
                            c.toggle_screen_share(weak.clone());
                        }
                    })
                });
                video.set_onended(Some(on_ended.unchecked_ref()));
            }
            if let Some(media) = media {
                let _ =
                    media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, Some(&screen)).await;
            }
        });
    }

    /// The other person's camera and microphone as one stream; their screen share as another,
    /// shown only while frames arrive on it.
    pub(super) fn show_remote_media(&mut self, media: &MediaTransceivers) {
        let tracks: Array = [Slot::MicAudio, Slot::Camera]
            .into_iter()
            .filter_map(|slot| media.remote_track(slot))
            .collect();
        self.set.remote_video.set(MediaStream::new_with_tracks(&tracks).ok());
        let screen_tracks: Array = [Slot::ScreenVideo, Slot::ScreenAudio]
            .into_iter()
            .filter_map(|slot| media.remote_track(slot))
            .collect();
        self.remote_screen = MediaStream::new_with_tracks(&screen_tracks).ok();
        self.screen_frames = (0, f64::NEG_INFINITY);
        self.screen_shown = false;
        self.set.remote_screen.set(None);
    }

    /// The other person shares their screen while its frames arrive: shown on the first new
    /// frames, hidden when none came for a while. (Mute events of the receiving track are not
    /// a reliable sign of this.)
    pub(super) fn screen_frames_seen(&mut self, total: u64) {
        let (last, _) = self.screen_frames;
        if total > last {
            self.screen_frames = (total, js_sys::Date::now());
            if !self.screen_shown {
                self.screen_shown = true;
                self.set.remote_screen.set(self.remote_screen.clone());
            }
        }
    }
}
