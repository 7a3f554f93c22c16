//! The peer connection's media: four transceivers made up front (mic, camera, screen video,
//! screen audio), each with its encoded transforms attached as it is made, so no frame ever
//! bypasses the media worker. Screen sharing starts and stops with `replaceTrack`, without
//! renegotiation.

use js_sys::{Array, Promise, Reflect};
use shieldcall_protocol::{PayloadTypes, Slot};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpEncodingParameters, RtcRtpReceiver,
    RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType,
    RtcSessionDescriptionInit,
};

use super::worker::MediaWorker;

/// Audio or video: the kind of a track, a transceiver or a codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Video,
}

impl MediaKind {
    /// The name the web APIs use (`MediaStreamTrack.kind`, `addTransceiver`,
    /// `RTCRtpReceiver.getCapabilities`, the type of a codec's MIME type).
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }

    /// The kind of `track` (`None` for a kind the web adds later).
    pub fn of(track: &MediaStreamTrack) -> Option<MediaKind> {
        let kind = track.kind();
        [MediaKind::Audio, MediaKind::Video].into_iter().find(|k| k.as_str() == kind)
    }

    /// The tracks of this kind in `stream`.
    pub fn tracks(self, stream: &MediaStream) -> Array {
        match self {
            MediaKind::Audio => stream.get_audio_tracks(),
            MediaKind::Video => stream.get_video_tracks(),
        }
    }

    /// The device that captures it, as the page names it: "microphone" or "camera".
    pub const fn device(self) -> &'static str {
        match self {
            MediaKind::Audio => "microphone",
            MediaKind::Video => "camera",
        }
    }
}

/// The media slots, in m-line order, with their kind.
pub const MEDIA_SLOTS: [(Slot, MediaKind); 4] = [
    (Slot::MicAudio, MediaKind::Audio),
    (Slot::Camera, MediaKind::Video),
    (Slot::ScreenVideo, MediaKind::Video),
    (Slot::ScreenAudio, MediaKind::Audio),
];

/// The codecs whose frame layouts the E2EE core knows (and the retransmission format, which
/// carries whole packets). AV1 and H.264 need OBU/NAL-aware layouts first.
const E2EE_CODECS: [&str; 4] = ["audio/opus", "video/vp8", "video/vp9", "video/rtx"];

/// One transceiver per media slot, transforms attached.
#[derive(Clone)]
pub struct MediaTransceivers {
    transceivers: Vec<(Slot, RtcRtpTransceiver)>,
}

impl MediaTransceivers {
    /// The offerer's side: make the four transceivers, each sending and receiving.
    pub fn create(
        pc: &RtcPeerConnection,
        worker: &MediaWorker,
        e2ee: bool,
    ) -> Result<Self, JsValue> {
        let mut transceivers = Vec::with_capacity(MEDIA_SLOTS.len());
        for (slot, kind) in MEDIA_SLOTS {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
            let transceiver = pc.add_transceiver_with_str_and_init(kind.as_str(), &init);
            attach(&transceiver, slot, kind, worker, e2ee)?;
            transceivers.push((slot, transceiver));
        }
        Ok(Self { transceivers })
    }

    /// The answerer's side: after `setRemoteDescription(offer)` made the transceivers (and before
    /// the answer, so before any media flows), attach transforms and turn on sending.
    pub fn adopt(
        pc: &RtcPeerConnection,
        worker: &MediaWorker,
        e2ee: bool,
    ) -> Result<Self, JsValue> {
        let all: Vec<RtcRtpTransceiver> =
            pc.get_transceivers().iter().map(|t| t.unchecked_into()).collect();
        if all.len() < MEDIA_SLOTS.len() {
            return Err(JsValue::from_str("the offer lacks the call's four media sections"));
        }
        let mut transceivers = Vec::with_capacity(MEDIA_SLOTS.len());
        for ((slot, kind), transceiver) in MEDIA_SLOTS.into_iter().zip(all) {
            if MediaKind::of(&transceiver.receiver().track()) != Some(kind) {
                return Err(JsValue::from_str("the offer's media sections are out of order"));
            }
            transceiver.set_direction(RtcRtpTransceiverDirection::Sendrecv);
            attach(&transceiver, slot, kind, worker, e2ee)?;
            transceivers.push((slot, transceiver));
        }
        Ok(Self { transceivers })
    }

    fn get(&self, slot: Slot) -> Option<&RtcRtpTransceiver> {
        self.transceivers.iter().find(|(s, _)| *s == slot).map(|(_, t)| t)
    }

    /// Send `track` in `slot` (or stop sending with `None`), without renegotiation.
    ///
    /// Stopping also turns the slot's encodings off: Firefox 140 goes on sending about one
    /// (black) frame a second after `replaceTrack(null)`, and the other side would keep showing
    /// a screen share that ended. Both browsers send nothing from an inactive encoding.
    pub async fn send(&self, slot: Slot, track: Option<&MediaStreamTrack>) -> Result<(), JsValue> {
        let sender = self.get(slot).ok_or("no such media slot")?.sender();
        JsFuture::from(sender.replace_track(track)).await?;
        let parameters = sender.get_parameters();
        let encodings = parameters.get_encodings().unwrap_or_default();
        let active = track.is_some();
        let changed = encodings.iter().fold(false, |changed, encoding| {
            let encoding: RtcRtpEncodingParameters = encoding.unchecked_into();
            let was = encoding.get_active().unwrap_or(true);
            encoding.set_active(active);
            changed || was != active
        });
        if changed {
            JsFuture::from(sender.set_parameters_with_parameters(&parameters)).await?;
        }
        Ok(())
    }

    /// Send the first audio and the first video track of `stream` in `audio` and `video` (or
    /// stop sending both with `None`).
    pub async fn send_stream(
        &self,
        audio: Slot,
        video: Slot,
        stream: Option<&MediaStream>,
    ) -> Result<(), JsValue> {
        self.send(audio, stream.and_then(|s| first_track(s, MediaKind::Audio)).as_ref()).await?;
        self.send(video, stream.and_then(|s| first_track(s, MediaKind::Video)).as_ref()).await
    }

    /// The track the other person sends in `slot`.
    pub fn remote_track(&self, slot: Slot) -> Option<MediaStreamTrack> {
        self.get(slot).map(|t| t.receiver().track())
    }

    /// The receiver of `slot`, for its statistics.
    pub fn receiver(&self, slot: Slot) -> Option<RtcRtpReceiver> {
        self.get(slot).map(|t| t.receiver())
    }
}

/// Attach the worker's transforms to both ends of a transceiver, and under E2EE limit its
/// codecs to those with known frame layouts.
fn attach(
    transceiver: &RtcRtpTransceiver,
    slot: Slot,
    kind: MediaKind,
    worker: &MediaWorker,
    e2ee: bool,
) -> Result<(), JsValue> {
    worker.attach_sender(&transceiver.sender(), slot)?;
    worker.attach_receiver(&transceiver.receiver(), slot)?;
    if e2ee {
        limit_codecs(transceiver, kind, &E2EE_CODECS)?;
    }
    Ok(())
}

/// Keep only `allowed` codecs (MIME types, lower case), in the browser's order of preference.
pub fn limit_codecs(
    transceiver: &RtcRtpTransceiver,
    kind: MediaKind,
    allowed: &[&str],
) -> Result<(), JsValue> {
    let Some(capabilities) = RtcRtpReceiver::get_capabilities(kind.as_str()) else {
        return Ok(());
    };
    let codecs: Array = Reflect::get(&capabilities, &"codecs".into())?.unchecked_into();
    let mime_of = |codec: &JsValue| {
        Reflect::get(codec, &"mimeType".into())
            .ok()
            .and_then(|m| m.as_string())
            .map(|m| m.to_ascii_lowercase())
            .unwrap_or_default()
    };
    let kept = codecs.filter(&mut |codec, _, _| allowed.contains(&mime_of(&codec).as_str()));
    // The browser refuses a list of only retransmission codecs (and would throw).
    if !kept.iter().any(|codec| !mime_of(&codec).ends_with("/rtx")) {
        return Err(JsValue::from_str("none of the allowed codecs is available"));
    }
    transceiver.set_codec_preferences(&kept);
    Ok(())
}

/// Put one codec first for a kind of media (tests use it to pick VP8 or VP9).
pub fn prefer_codec(
    transceiver: &RtcRtpTransceiver,
    kind: MediaKind,
    mime: &str,
) -> Result<(), JsValue> {
    let rtx = format!("{}/rtx", kind.as_str());
    limit_codecs(transceiver, kind, &[&mime.to_ascii_lowercase(), &rtx])
}

/// `createOffer` then `setLocalDescription`; the SDP to send. Under E2EE the description asks
/// for constant-bit-rate Opus and drops the audio-level header extension (see
/// [`shieldcall_call::sdp`]).
pub async fn make_offer(pc: &RtcPeerConnection, e2ee: bool) -> Result<String, JsValue> {
    let offer = JsFuture::from(pc.create_offer()).await?;
    set_local(pc, RtcSdpType::Offer, &offer, e2ee).await
}

/// `createAnswer` then `setLocalDescription`; the SDP to send (under E2EE as for the offer).
pub async fn make_answer(pc: &RtcPeerConnection, e2ee: bool) -> Result<String, JsValue> {
    let answer = JsFuture::from(pc.create_answer()).await?;
    set_local(pc, RtcSdpType::Answer, &answer, e2ee).await
}

async fn set_local(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    description: &JsValue,
    e2ee: bool,
) -> Result<String, JsValue> {
    let mut sdp = Reflect::get(description, &"sdp".into())?.as_string().ok_or("no SDP")?;
    if e2ee {
        sdp = shieldcall_call::sdp::without_audio_metadata(&sdp);
    }
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(&sdp);
    JsFuture::from(pc.set_local_description(&init)).await?;
    Ok(sdp)
}

/// Apply the other side's offer or answer, without the lines Chromium would refuse it for
/// (see [`shieldcall_call::sdp::without_unlisted_formats`]).
pub async fn apply_remote(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    sdp: &str,
) -> Result<(), JsValue> {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(&shieldcall_call::sdp::without_unlisted_formats(sdp));
    JsFuture::from(pc.set_remote_description(&init)).await?;
    Ok(())
}

/// The codec of each payload type that `pc`'s local and remote descriptions negotiated, for the
/// media worker (frames are sent with the receiver's numbers, which JSEP makes the offer's).
pub fn payload_types(pc: &RtcPeerConnection) -> PayloadTypes {
    let sdps = [pc.local_description(), pc.remote_description()]
        .into_iter()
        .flatten()
        .map(|description| shieldcall_call::sdp::payload_types(&description.sdp()));
    let pairs: Vec<(u8, String)> = sdps.flatten().collect();
    PayloadTypes::from_encodings(pairs.iter().map(|(pt, name)| (*pt, name.as_str())))
}

/// The first track of `kind` in `stream`.
pub fn first_track(stream: &MediaStream, kind: MediaKind) -> Option<MediaStreamTrack> {
    kind.tracks(stream).get(0).dyn_into().ok()
}

/// Resolve after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The certificates the other side of `pc`'s DTLS transports presented, as the browser reports
/// them (`getStats`: each `transport`'s `remoteCertificateId`, then that `certificate`):
/// `(fingerprintAlgorithm, fingerprint)`, one per transport (one when bundled). Empty while no
/// DTLS transport has a remote certificate yet, or in a browser whose statistics report none.
pub async fn remote_certificates(pc: &RtcPeerConnection) -> Vec<(String, String)> {
    let Ok(report) = JsFuture::from(pc.get_stats()).await else { return Vec::new() };
    let field = |value: &JsValue, name: &str| {
        Reflect::get(value, &name.into()).ok().and_then(|v| v.as_string())
    };
    let mut certificate_ids = Vec::new();
    // By certificate id; a few entries (a plain list keeps a hash map's code out of the wasm).
    let mut certificates: Vec<(String, (String, String))> = Vec::new();
    let entries = js_sys::try_iter(&report).ok().flatten().into_iter().flatten().flatten();
    for value in entries.filter_map(|entry| Reflect::get(&entry, &1.into()).ok()) {
        match field(&value, "type").as_deref() {
            Some("transport") => certificate_ids.extend(field(&value, "remoteCertificateId")),
            Some("certificate") => {
                if let (Some(id), Some(algorithm), Some(fingerprint)) = (
                    field(&value, "id"),
                    field(&value, "fingerprintAlgorithm"),
                    field(&value, "fingerprint"),
                ) {
                    certificates.push((id, (algorithm, fingerprint)));
                }
            }
            _ => {}
        }
    }
    let certificate =
        |id: &String| certificates.iter().find(|(c, _)| c == id).map(|(_, f)| f.clone());
    certificate_ids.iter().filter_map(certificate).collect()
}

/// The peer's description as this browser applied it and writes it back
/// (`currentRemoteDescription`), to be read again as it was read when it arrived.
pub fn applied_remote_description(pc: &RtcPeerConnection) -> Option<String> {
    pc.current_remote_description().map(|description| description.sdp())
}

/// The connection's counters for the quality indicator (`getStats`): the round trip of the
/// selected candidate pair (`currentRoundTripTime`; where a browser reports none, the largest
/// `remote-inbound-rtp` `roundTripTime`), the inbound audio's jitter (video's where there is
/// no audio), and packets and bytes
/// summed over the `inbound-rtp` and `outbound-rtp` entries. `None` if there is no report.
pub async fn link_stats(pc: &RtcPeerConnection) -> Option<shieldcall_call::quality::LinkStats> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    let number = |value: &JsValue, name: &str| {
        Reflect::get(value, &name.into()).ok().and_then(|v| v.as_f64()).filter(|n| n.is_finite())
    };
    let text = |value: &JsValue, name: &str| {
        Reflect::get(value, &name.into()).ok().and_then(|v| v.as_string())
    };
    let mut stats = shieldcall_call::quality::LinkStats::default();
    let (mut pair_rtt, mut remote_rtt) = (None::<f64>, None::<f64>);
    let (mut audio_jitter, mut video_jitter) = (None::<f64>, None::<f64>);
    let mut lost: f64 = 0.0;
    let mut at: f64 = 0.0;
    let entries = js_sys::try_iter(&report).ok().flatten().into_iter().flatten().flatten();
    for value in entries.filter_map(|entry| Reflect::get(&entry, &1.into()).ok()) {
        at = at.max(number(&value, "timestamp").unwrap_or(0.0));
        let count = |name| number(&value, name).unwrap_or(0.0).max(0.0) as u64;
        match text(&value, "type").as_deref() {
            Some("candidate-pair")
                if text(&value, "state").as_deref() == Some("succeeded")
                    && Reflect::get(&value, &"nominated".into()).ok().and_then(|v| v.as_bool())
                        != Some(false) =>
            {
                if let Some(rtt) = number(&value, "currentRoundTripTime") {
                    pair_rtt = Some(pair_rtt.map_or(rtt, |r: f64| r.max(rtt)));
                }
            }
            Some("remote-inbound-rtp") => {
                if let Some(rtt) = number(&value, "roundTripTime") {
                    remote_rtt = Some(remote_rtt.map_or(rtt, |r: f64| r.max(rtt)));
                }
            }
            Some("inbound-rtp") => {
                stats.packets_received += count("packetsReceived");
                stats.bytes_received += count("bytesReceived");
                // Negative when duplicates outnumber losses: none lost, then.
                lost += number(&value, "packetsLost").unwrap_or(0.0).max(0.0);
                // Audio's jitter is the one people hear; video's is inflated by each frame's
                // packets leaving in a burst, so it counts only where no audio comes.
                if let Some(j) = number(&value, "jitter") {
                    let slot = match text(&value, "kind").as_deref() {
                        Some("audio") => &mut audio_jitter,
                        _ => &mut video_jitter,
                    };
                    *slot = Some(slot.map_or(j, |m: f64| m.max(j)));
                }
            }
            Some("outbound-rtp") => stats.bytes_sent += count("bytesSent"),
            _ => {}
        }
    }
    // Seconds in the report, milliseconds in the view.
    let ms = |seconds: f64| (seconds * 1000.0).round() as u32;
    stats.rtt_ms = pair_rtt.or(remote_rtt).map(ms);
    stats.jitter_ms = audio_jitter.or(video_jitter).map(ms);
    stats.packets_lost = lost as u64;
    stats.at_ms = at as u64;
    Some(stats)
}
