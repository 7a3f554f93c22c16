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

use super::devices::stop_tracks;
use super::{Call, notice, with_call};
use crate::browser::peer::{MediaKind, MediaTransceivers, first_track};

impl Call {
    pub(super) fn toggle_screen_share(&mut self, weak: Weak<RefCell<Call>>) {
        if let Some(screen) = self.screen.take() {
            stop_tracks(&screen);
            self.set.sharing.set(false);
            self.local_media_changed();
            if let Some(media) = self.link.as_ref().and_then(|l| l.media.clone()) {
                spawn_local(async move {
                    let _ = media.send_stream(Slot::ScreenAudio, Slot::ScreenVideo, None).await;
                });
            }
            return;
        }
        if self.ctl.ended() {
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
            let (mut media, mut taken) = (None, false);
            with_call(&weak, |c| {
                // The call ended (or the page went) while the picker was open: share nothing.
                if c.ctl.ended() {
                    return;
                }
                taken = true;
                c.screen = Some(Clone::clone(&screen));
                c.set.sharing.set(true);
                c.local_media_changed();
                if first_track(&screen, MediaKind::Audio).is_none() {
                    // Firefox never shares sound; Chromium only when the person ticks it.
                    notice(c.set, "Your screen is shared without its sound.".into());
                }
                media = c.link.as_ref().and_then(|link| link.media.clone());
            });
            if !taken {
                return stop_tracks(&screen);
            }
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
        // Shown when the controller sees its frames arrive.
        self.remote_screen = MediaStream::new_with_tracks(&screen_tracks).ok();
        self.set.remote_screen.set(None);
    }
}
