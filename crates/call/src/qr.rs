//! A QR code for the move link, as the `d` of one SVG `<path>`: drawn by the page itself, so
//! the link (and the secrets in its fragment) never goes to an image service.

use qrcodegen::{QrCode, QrCodeEcc};

/// Light modules around the code, as the QR standard asks, so that a camera finds its edges.
pub const QUIET_ZONE: i32 = 4;

/// A QR code of `text`, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrSvg {
    /// Width and height in modules, quiet zone included (the SVG `viewBox` is this square).
    pub size: i32,
    /// One unit square per dark module, offset by the quiet zone.
    pub path: String,
}

/// Encodes `text` (a link of about 150 bytes fits version 8 at medium error correction);
/// `None` if it is too long for any QR code.
pub fn qr_svg(text: &str) -> Option<QrSvg> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = code.size();
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE));
            }
        }
    }
    Some(QrSvg { size: n + 2 * QUIET_ZONE, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dark_module_is_one_square_inside_the_quiet_zone() {
        let link = "https://call.example.org/call/AAECAwQFBgcICQoLDA0ODw#m=AAECAwQFBgcICQoLDA0ODw\
                    &s=ICEiIyQlJicoKSorLC0uLw&r=guest&k=8PHy8_T19vf4-fr7_P3-_w";
        let svg = qr_svg(link).expect("a link fits");
        let code = QrCode::encode_text(link, QrCodeEcc::Medium).unwrap();
        assert_eq!(svg.size, code.size() + 8);
        let dark = (0..code.size())
            .flat_map(|y| (0..code.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| code.get_module(x, y))
            .count();
        assert_eq!(svg.path.matches('z').count(), dark);
        // The top-left finder pattern's corner sits right after the quiet zone.
        assert!(svg.path.starts_with("M4,4h1v1h-1z"), "{}", &svg.path[..40]);
        assert!(qr_svg(&"x".repeat(5000)).is_none(), "too long for any QR code");
    }
}
