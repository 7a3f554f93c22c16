//! What a description says about audio while E2EE is on.
//!
//! SFrame hides what is said, not how loud or how much: the audio-level RTP header extension
//! carries each packet's loudness in the clear (SRTP does not encrypt header extensions), and
//! Opus at a variable bit rate makes each frame's size follow the speech. Under E2EE both go:
//! the extension is not negotiated, and each side asks the other for constant-bit-rate Opus
//! (`cbr=1` is a receiver's preference, RFC 7587, so each side writes it in its own
//! description).

/// Header extensions that carry audio levels in the clear.
const AUDIO_LEVEL_EXTENSIONS: [&str; 2] =
    ["urn:ietf:params:rtp-hdrext:ssrc-audio-level", "urn:ietf:params:rtp-hdrext:csrc-audio-level"];

/// `sdp` without audio-level header extensions, and with `cbr=1` on every Opus payload type.
/// Payload types are per media section. Line endings are kept as they are (CRLF from browsers).
pub fn without_audio_metadata(sdp: &str) -> String {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = sdp.split(eol).collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 1);
    for section in sections(&lines) {
        rewrite_section(section, &mut out);
    }
    out.join(eol)
}

/// A description's lines in its parts: the session part, then each media section from its
/// `m=` line on.
fn sections<'l, 's>(lines: &'l [&'s str]) -> impl Iterator<Item = &'l [&'s str]> {
    lines.chunk_by(|_, next| !next.starts_with("m="))
}

fn rewrite_section(lines: &[&str], out: &mut Vec<String>) {
    let opus: Vec<&str> = lines.iter().filter_map(|line| opus_payload_type(line)).collect();
    let with_fmtp: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("a=fmtp:")?.split_once(' ').map(|(pt, _)| pt))
        .collect();
    for line in lines {
        if is_audio_level_extension(line) {
            continue;
        }
        if let Some((pt, params)) = line.strip_prefix("a=fmtp:").and_then(|r| r.split_once(' '))
            && opus.contains(&pt)
        {
            out.push(format!("a=fmtp:{pt} {}", with_cbr(params)));
            continue;
        }
        out.push(line.to_string());
        if let Some(pt) = opus_payload_type(line)
            && !with_fmtp.contains(&pt)
        {
            out.push(format!("a=fmtp:{pt} cbr=1"));
        }
    }
}

/// The payload type of an `a=rtpmap:<pt> opus/48000/2` line.
fn opus_payload_type(line: &str) -> Option<&str> {
    let (pt, codec) = line.strip_prefix("a=rtpmap:")?.split_once(' ')?;
    let name = codec.split('/').next()?;
    name.eq_ignore_ascii_case("opus").then_some(pt)
}

fn is_audio_level_extension(line: &str) -> bool {
    line.strip_prefix("a=extmap:").is_some_and(|rest| {
        rest.split_ascii_whitespace()
            .nth(1)
            .is_some_and(|uri| AUDIO_LEVEL_EXTENSIONS.iter().any(|e| uri.eq_ignore_ascii_case(e)))
    })
}

/// Opus format parameters with `cbr=1`, whatever `cbr` said before.
fn with_cbr(params: &str) -> String {
    let mut kept: Vec<&str> = params
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.to_ascii_lowercase().starts_with("cbr="))
        .collect();
    kept.push("cbr=1");
    kept.join(";")
}

/// `sdp` without format attributes (`a=rtpmap`, `a=fmtp`, `a=rtcp-fb`) for payload types its
/// media section does not list. Firefox 140 writes `a=rtcp-fb` lines for the video codecs that
/// `setCodecPreferences` removed, and Chromium then refuses the whole description ("Failed to
/// parse codecs correctly"): such lines mean nothing (RFC 8866 §6: attributes of a format apply
/// only to a listed one), so they are dropped before a description is applied. Wildcard
/// `a=rtcp-fb:*` lines stay.
pub fn without_unlisted_formats(sdp: &str) -> String {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut listed: Option<Vec<&str>> = None;
    let mut out: Vec<&str> = Vec::new();
    for line in sdp.split(eol) {
        if let Some(media) = line.strip_prefix("m=") {
            listed = Some(media.split_ascii_whitespace().skip(3).collect());
        }
        let unlisted = format_attribute_pt(line)
            .is_some_and(|pt| pt != "*" && listed.as_ref().is_some_and(|l| !l.contains(&pt)));
        if !unlisted {
            out.push(line);
        }
    }
    out.join(eol)
}

/// The payload type a format attribute is about.
fn format_attribute_pt(line: &str) -> Option<&str> {
    let rest = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"].iter().find_map(|p| line.strip_prefix(p))?;
    rest.split_ascii_whitespace().next()
}

/// Every payload type that some media section of `sdp` lists and maps to an encoding
/// (`a=rtpmap:<pt> <name>/<clock>`), with the encoding name in lower case (`opus`, `vp8`,
/// `rtx`). Encoded frames carry only their payload type in Firefox (no `mimeType`), so this is
/// how the media worker learns which frame layout a frame has. A payload type that two sections
/// map to different encodings is left out: the worker then drops its frames (fail closed).
pub fn payload_types(sdp: &str) -> Vec<(u8, String)> {
    let mut listed: Vec<&str> = Vec::new();
    let mut found: Vec<(u8, String)> = Vec::new();
    let mut conflicting: Vec<u8> = Vec::new();
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(media) = line.strip_prefix("m=") {
            listed = media.split_ascii_whitespace().skip(3).collect();
            continue;
        }
        let Some((pt, encoding)) = line.strip_prefix("a=rtpmap:").and_then(|r| r.split_once(' '))
        else {
            continue;
        };
        let (Ok(number), Some(name)) = (pt.parse::<u8>(), encoding.split('/').next()) else {
            continue;
        };
        if !listed.contains(&pt) || name.is_empty() {
            continue;
        }
        let name = name.to_ascii_lowercase();
        match found.iter().find(|(p, _)| *p == number) {
            Some((_, known)) if *known != name => conflicting.push(number),
            Some(_) => {}
            None => found.push((number, name)),
        }
    }
    found.retain(|(pt, _)| !conflicting.contains(pt));
    found
}

/// The ICE candidates a description carries (`a=candidate:` lines), each with the `a=mid` of
/// its media section (if it has one) and as an attribute (`candidate:...`, without the `a=`).
pub fn candidates(sdp: &str) -> Vec<(Option<&str>, &str)> {
    let lines: Vec<&str> = sdp.lines().map(|line| line.trim_end_matches('\r')).collect();
    let mut found = Vec::new();
    for section in sections(&lines) {
        // Anywhere in the section: Chromium writes the mid after the candidates.
        let mid = section.iter().find_map(|line| line.strip_prefix("a=mid:"));
        let attributes = section.iter().filter_map(|line| line.strip_prefix("a="));
        found.extend(attributes.filter(|a| a.starts_with("candidate:")).map(|c| (mid, c)));
    }
    found
}

/// What makes a candidate the one it is: its fields up to its extensions (`generation`,
/// `ufrag`, `network-id`, `network-cost`), which Chromium writes in `RTCIceCandidate.candidate`
/// but not all of them in a description's `a=candidate` line.
pub fn candidate_identity(candidate: &str) -> String {
    const EXTENSIONS: [&str; 4] = ["generation", "ufrag", "network-id", "network-cost"];
    let fields = candidate.split_ascii_whitespace();
    fields.take_while(|field| !EXTENSIONS.contains(field)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The audio section of an offer as Chromium writes it (shortened).
    const CHROMIUM_AUDIO: &str = "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9\r\n\
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
        a=rtpmap:111 opus/48000/2\r\n\
        a=rtcp-fb:111 transport-cc\r\n\
        a=fmtp:111 minptime=10;useinbandfec=1\r\n\
        a=rtpmap:63 red/48000/2\r\n\
        a=fmtp:63 111/111\r\n\
        a=rtpmap:9 G722/8000\r\n";

    #[test]
    fn chromium_audio_loses_its_levels_and_asks_for_cbr() {
        let out = without_audio_metadata(CHROMIUM_AUDIO);
        assert!(!out.contains("audio-level"), "{out}");
        assert!(out.contains("a=fmtp:111 minptime=10;useinbandfec=1;cbr=1\r\n"), "{out}");
        assert!(out.contains("a=fmtp:63 111/111\r\n"), "RED's parameters stay");
        assert!(out.contains("transport-wide-cc"), "other extensions stay");
        assert_eq!(out.lines().count(), CHROMIUM_AUDIO.lines().count() - 1);
        assert!(out.ends_with("\r\n"));
    }

    #[test]
    fn firefox_audio_too() {
        // Firefox: its own payload type, csrc levels, extmap with a direction.
        let sdp = "m=audio 9 UDP/TLS/RTP/SAVPF 109 0\r\n\
            a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
            a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n\
            a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
            a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1;cbr=0\r\n\
            a=rtpmap:109 opus/48000/2\r\n";
        let out = without_audio_metadata(sdp);
        assert!(!out.contains("audio-level"), "{out}");
        assert!(out.contains("sdes:mid"));
        assert!(out.contains("a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1;cbr=1\r\n"));
        assert!(!out.contains("cbr=0"));
    }

    #[test]
    fn opus_without_parameters_gets_a_line_of_its_own() {
        let sdp = "m=audio 9 RTP/SAVPF 96\na=rtpmap:96 OPUS/48000/2\na=sendrecv\n";
        assert_eq!(
            without_audio_metadata(sdp),
            "m=audio 9 RTP/SAVPF 96\na=rtpmap:96 OPUS/48000/2\na=fmtp:96 cbr=1\na=sendrecv\n"
        );
    }

    #[test]
    fn payload_types_are_per_media_section() {
        // Payload type 96 is Opus in the audio section and VP8 in the video one.
        let sdp = "v=0\r\nm=audio 9 RTP/SAVPF 96\r\na=rtpmap:96 opus/48000/2\r\n\
            a=fmtp:96 useinbandfec=1\r\nm=video 9 RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n\
            a=fmtp:96 max-fs=12288\r\n";
        let out = without_audio_metadata(sdp);
        assert!(out.contains("a=fmtp:96 useinbandfec=1;cbr=1\r\n"), "{out}");
        assert!(out.contains("a=fmtp:96 max-fs=12288\r\n"), "{out}");
    }

    #[test]
    fn video_and_the_rest_are_untouched() {
        let sdp = "v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
            a=rtpmap:96 VP8/90000\r\na=fmtp:96 max-fs=12288\r\n";
        assert_eq!(without_audio_metadata(sdp), sdp);
    }

    /// Firefox 140's video section after `setCodecPreferences([VP8, rtx, VP9, rtx])`
    /// (shortened): feedback lines for payload types 99, 123 and 122 it no longer lists.
    const FIREFOX_VIDEO: &str = "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125\r\n\
        a=fmtp:120 max-fs=12288;max-fr=60\r\n\
        a=fmtp:124 apt=120\r\n\
        a=rtcp-fb:120 nack pli\r\n\
        a=rtcp-fb:99 nack\r\n\
        a=rtcp-fb:99 nack pli\r\n\
        a=rtcp-fb:123 transport-cc\r\n\
        a=rtcp-fb:* ccm fir\r\n\
        a=rtpmap:120 VP8/90000\r\n\
        a=rtpmap:124 rtx/90000\r\n\
        a=rtpmap:121 VP9/90000\r\n\
        a=rtpmap:125 rtx/90000\r\n";

    #[test]
    fn feedback_for_unlisted_formats_goes() {
        let out = without_unlisted_formats(&format!("v=0\r\n{FIREFOX_VIDEO}"));
        assert!(!out.contains("a=rtcp-fb:99"), "{out}");
        assert!(!out.contains("a=rtcp-fb:123"), "{out}");
        assert!(out.contains("a=rtcp-fb:120 nack pli\r\n"), "{out}");
        assert!(out.contains("a=rtcp-fb:* ccm fir\r\n"), "wildcards stay: {out}");
        assert!(out.contains("a=rtpmap:125 rtx/90000\r\n"));
        assert_eq!(out.lines().count(), FIREFOX_VIDEO.lines().count() + 1 - 3);
    }

    #[test]
    fn listed_formats_are_per_media_section() {
        // 109 is listed in the audio section only: its rtpmap in the video section goes.
        let sdp = "v=0\nm=audio 9 RTP/SAVPF 109\na=rtpmap:109 opus/48000/2\n\
            m=video 9 RTP/SAVPF 120\na=rtpmap:120 VP8/90000\na=rtpmap:109 VP9/90000\n";
        let out = without_unlisted_formats(sdp);
        assert_eq!(
            out,
            "v=0\nm=audio 9 RTP/SAVPF 109\na=rtpmap:109 opus/48000/2\n\
            m=video 9 RTP/SAVPF 120\na=rtpmap:120 VP8/90000\n"
        );
    }

    #[test]
    fn a_clean_description_is_unchanged() {
        let sdp = format!("v=0\r\n{CHROMIUM_AUDIO}");
        assert_eq!(without_unlisted_formats(&sdp), sdp);
    }

    #[test]
    fn payload_types_name_their_encodings() {
        let sdp = format!(
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 109\r\na=rtpmap:109 opus/48000/2\r\n{FIREFOX_VIDEO}"
        );
        assert_eq!(
            payload_types(&sdp),
            [(109, "opus"), (120, "vp8"), (124, "rtx"), (121, "vp9"), (125, "rtx")]
                .map(|(pt, name)| (pt, name.to_string()))
        );
    }

    #[test]
    fn payload_types_leave_out_unlisted_and_conflicting_ones() {
        // 96 is Opus in one section and VP8 in another; 97 is mapped but not listed; 98 is not
        // a payload type at all.
        let sdp = "m=audio 9 RTP/SAVPF 96 100\na=rtpmap:96 opus/48000/2\na=rtpmap:97 G722/8000\n\
            a=rtpmap:100 opus/48000/2\nm=video 9 RTP/SAVPF 96 300\na=rtpmap:96 VP8/90000\n\
            a=rtpmap:300 VP9/90000\n";
        assert_eq!(payload_types(sdp), [(100, "opus".to_string())]);
    }

    #[test]
    fn candidates_are_read_as_the_browser_reports_them() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
            a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host generation 0\r\n\
            a=candidate-ish:not one\r\n\
            a=candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active\r\n\
            a=end-of-candidates\r\n";
        assert_eq!(
            candidates(sdp),
            [
                (None, "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host generation 0"),
                (None, "candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active"),
            ]
        );
        assert!(candidates(&sdp.replace("\r\n", "\n")).len() == 2, "either line ending");
        // Each with its section's mid, wherever in the section the mid is written.
        let sections = "v=0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:1 1 tcp 1 192.0.2.1 9 typ host\r\n\
            a=mid:0\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=candidate:1 1 tcp 1 192.0.2.1 9 typ host\r\n";
        let found = candidates(sections);
        assert_eq!(found.iter().map(|(mid, _)| *mid).collect::<Vec<_>>(), [Some("0"), Some("1")]);
        assert!(candidates(CHROMIUM_AUDIO).is_empty());
    }

    #[test]
    fn a_candidate_is_the_same_in_a_description_and_trickled() {
        // As Chromium 148 gives one in `onicecandidate`, and writes it in `localDescription`.
        let trickled = "candidate:3262236016 1 udp 2122260223 10.0.0.5 51000 typ host \
                        generation 0 ufrag aB3d network-id 1";
        let described = "candidate:3262236016 1 udp 2122260223 10.0.0.5 51000 typ host \
                         generation 0 network-id 1";
        assert_eq!(candidate_identity(trickled), candidate_identity(described));
        let relayed = "candidate:1 1 udp 41885439 192.0.2.9 3478 typ relay raddr 10.0.0.5 \
                       rport 51000 generation 0 ufrag aB3d";
        assert_eq!(
            candidate_identity(relayed),
            "candidate:1 1 udp 41885439 192.0.2.9 3478 typ relay raddr 10.0.0.5 rport 51000"
        );
        // Another port, another candidate; Firefox writes no extensions at all.
        assert_ne!(
            candidate_identity(trickled),
            candidate_identity(&described.replace("51000", "51001"))
        );
        let firefox = "candidate:0 1 UDP 2122252543 10.0.0.5 49203 typ host";
        assert_eq!(candidate_identity(firefox), firefox);
    }
}
