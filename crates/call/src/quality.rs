//! How good the connection is, from the browser's `getStats()`: round-trip time, inbound packet
//! loss and jitter, and the bit rates both ways, sampled about every 2 s and classed as good,
//! fair or poor, with hysteresis so that the icon does not flicker at a threshold.
//!
//! Thresholds (the worst of the three decides; rates are shown but do not class, since a
//! muted microphone or a camera turned off lowers them without anything being wrong):
//!
//! | measure            | good     | fair           | poor     |
//! |--------------------|----------|----------------|----------|
//! | round trip         | < 200 ms | 200 to 400 ms  | > 400 ms |
//! | inbound loss       | < 2 %    | 2 to 10 %      | > 10 %   |
//! | inbound jitter     | < 30 ms  | 30 to 75 ms    | > 75 ms  |
//!
//! (Jitter is the audio's: video's is inflated by each frame's packets leaving in a burst.)
//!
//! Why these: a round trip over about 400 ms (one way over ITU-T G.114's 150-200 ms, plus
//! the jitter buffer) makes people talk over each other; Opus with FEC hides a few percent of
//! loss but video freezes visibly beyond about 2 %, and both break up beyond 10 %; jitter
//! beyond about 75 ms grows the receiver's buffer to where the delay shows.
//!
//! Hysteresis: a worse class shows after 2 samples in a row (about 4 s), a better one after 3
//! (about 6 s): a bad moment is shown quickly, a recovery only once it holds.

/// The counters of one `getStats()` report, as the page reads them (summed over the
/// connection's `inbound-rtp` and `outbound-rtp` entries; the round trip of the selected
/// candidate pair, or the `remote-inbound-rtp` entries where a browser has none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// The report's time (ms, the page's clock).
    pub at_ms: u64,
    pub rtt_ms: Option<u32>,
    /// The inbound audio's jitter (ms; the video's where no audio comes in).
    pub jitter_ms: Option<u32>,
    pub packets_received: u64,
    pub packets_lost: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
}

/// The connection's class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    Good,
    Fair,
    Poor,
}

impl Quality {
    /// The `data-quality` hook and the CSS class: `good`, `fair`, `poor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Fair => "fair",
            Quality::Poor => "poor",
        }
    }

    /// Bars lit in the icon (of 3).
    pub fn bars(self) -> u8 {
        match self {
            Quality::Good => 3,
            Quality::Fair => 2,
            Quality::Poor => 1,
        }
    }
}

/// What the quality icon shows: the class (after hysteresis) and the last sample's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QualityView {
    pub quality: Quality,
    pub rtt_ms: Option<u32>,
    /// Inbound packets lost over the last interval, in percent.
    pub loss_pct: f64,
    pub jitter_ms: Option<u32>,
    /// Bits per second received and sent over the last interval.
    pub in_bps: u64,
    pub out_bps: u64,
    /// The browser says the connection is interrupted (ICE `disconnected`): nothing gets
    /// through, whatever the last figures were.
    pub interrupted: bool,
}

impl QualityView {
    /// What to show while the browser says the connection is interrupted.
    pub const INTERRUPTED: QualityView = QualityView {
        quality: Quality::Poor,
        rtt_ms: None,
        loss_pct: 0.0,
        jitter_ms: None,
        in_bps: 0,
        out_bps: 0,
        interrupted: true,
    };

    /// In words, for the tooltip and the accessible name: "Good connection: 24 ms round trip,
    /// 0% loss, 3 ms jitter, 1.2 Mb/s received, 1.1 Mb/s sent".
    pub fn description(&self) -> String {
        if self.interrupted {
            return "Poor connection: interrupted, nothing gets through right now".into();
        }
        let class = match self.quality {
            Quality::Good => "Good connection",
            Quality::Fair => "Fair connection",
            Quality::Poor => "Poor connection",
        };
        let rtt = match self.rtt_ms {
            Some(ms) => format!("{ms} ms round trip"),
            None => "round trip unknown".into(),
        };
        let jitter = self.jitter_ms.map(|ms| format!(", {ms} ms jitter")).unwrap_or_default();
        format!(
            "{class}: {rtt}, {} loss{jitter}, {} received, {} sent",
            percent(self.loss_pct),
            bit_rate(self.in_bps),
            bit_rate(self.out_bps),
        )
    }
}

/// "0%", "0.4%", "12%".
fn percent(pct: f64) -> String {
    if pct == 0.0 {
        "0%".into()
    } else if pct < 10.0 {
        let tenths = (pct * 10.0).round() as u64;
        match tenths % 10 {
            0 => format!("{}%", tenths / 10),
            tenth => format!("{}.{tenth}%", tenths / 10),
        }
    } else {
        format!("{}%", crate::texts::decimal(pct, 0))
    }
}

/// "850 kb/s", "1.2 Mb/s", "0 kb/s".
fn bit_rate(bps: u64) -> String {
    if bps < 1_000_000 {
        format!("{} kb/s", (bps + 500) / 1000)
    } else {
        let tenths = bps.saturating_add(50_000) / 100_000;
        format!("{}.{} Mb/s", tenths / 10, tenths % 10)
    }
}

/// The class of one sample, before hysteresis.
pub fn classify(rtt_ms: Option<u32>, loss_pct: f64, jitter_ms: Option<u32>) -> Quality {
    let rtt = match rtt_ms {
        Some(ms) if ms > 400 => Quality::Poor,
        Some(ms) if ms >= 200 => Quality::Fair,
        _ => Quality::Good,
    };
    let loss = if loss_pct > 10.0 {
        Quality::Poor
    } else if loss_pct >= 2.0 {
        Quality::Fair
    } else {
        Quality::Good
    };
    let jitter = match jitter_ms {
        Some(ms) if ms > 75 => Quality::Poor,
        Some(ms) if ms >= 30 => Quality::Fair,
        _ => Quality::Good,
    };
    rtt.max(loss).max(jitter)
}

/// Samples in a row of a worse class before it shows.
const WORSE_AFTER: u32 = 2;
/// Samples in a row of a better class before it shows.
const BETTER_AFTER: u32 = 3;

/// Turns successive reports into what the icon shows.
#[derive(Clone, Debug, Default)]
pub struct QualityMeter {
    last: Option<LinkStats>,
    shown: Option<Quality>,
    /// A class other than the shown one, and how many samples in a row had it.
    pending: Option<(Quality, u32)>,
}

impl QualityMeter {
    /// A new report; what to show, once two reports give an interval. A report from before
    /// the last one (or counters that went back: a new connection) starts again.
    pub fn sample(&mut self, stats: LinkStats) -> Option<QualityView> {
        let last = self.last.replace(stats)?;
        let ms = stats.at_ms.checked_sub(last.at_ms).filter(|ms| *ms > 0)?;
        let received = stats.packets_received.checked_sub(last.packets_received)?;
        let lost = stats.packets_lost.saturating_sub(last.packets_lost);
        let bytes_in = stats.bytes_received.checked_sub(last.bytes_received)?;
        let bytes_out = stats.bytes_sent.checked_sub(last.bytes_sent)?;
        let expected = received + lost;
        let loss_pct = if expected == 0 { 0.0 } else { lost as f64 * 100.0 / expected as f64 };
        let class = classify(stats.rtt_ms, loss_pct, stats.jitter_ms);
        let quality = self.follow(class);
        Some(QualityView {
            quality,
            rtt_ms: stats.rtt_ms,
            loss_pct,
            jitter_ms: stats.jitter_ms,
            in_bps: bytes_in.saturating_mul(8000) / ms,
            out_bps: bytes_out.saturating_mul(8000) / ms,
            interrupted: false,
        })
    }

    /// The class to show, after this sample's `class`.
    fn follow(&mut self, class: Quality) -> Quality {
        let Some(shown) = self.shown else {
            self.shown = Some(class);
            return class;
        };
        if class == shown {
            self.pending = None;
            return shown;
        }
        let count = match self.pending {
            Some((pending, n)) if pending == class => n + 1,
            _ => 1,
        };
        let needed = if class > shown { WORSE_AFTER } else { BETTER_AFTER };
        if count >= needed {
            self.shown = Some(class);
            self.pending = None;
            class
        } else {
            self.pending = Some((class, count));
            shown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report `n` intervals of 2 s in, with these figures for the last interval: 100
    /// packets a second in, `lost_per_100` of every 100 lost, 1 Mb/s in, 0.5 Mb/s out.
    fn report(n: u64, rtt: u32, lost_per_100: u64, jitter: u32) -> LinkStats {
        LinkStats {
            at_ms: n * 2000,
            rtt_ms: Some(rtt),
            jitter_ms: Some(jitter),
            packets_received: n * (200 - 2 * lost_per_100),
            packets_lost: n * 2 * lost_per_100,
            bytes_received: n * 250_000,
            bytes_sent: n * 125_000,
        }
    }

    #[test]
    fn each_measure_classes_by_its_thresholds_and_the_worst_decides() {
        assert_eq!(classify(Some(24), 0.0, Some(3)), Quality::Good);
        assert_eq!(classify(Some(199), 1.9, Some(29)), Quality::Good);
        assert_eq!(classify(Some(200), 0.0, Some(3)), Quality::Fair);
        assert_eq!(classify(Some(400), 0.0, Some(3)), Quality::Fair);
        assert_eq!(classify(Some(401), 0.0, Some(3)), Quality::Poor);
        assert_eq!(classify(Some(24), 2.0, Some(3)), Quality::Fair);
        assert_eq!(classify(Some(24), 10.5, Some(3)), Quality::Poor);
        assert_eq!(classify(Some(24), 0.0, Some(30)), Quality::Fair);
        assert_eq!(classify(Some(24), 0.0, Some(76)), Quality::Poor);
        assert_eq!(classify(Some(250), 12.0, Some(3)), Quality::Poor);
        // What the browser does not report does not count against the connection.
        assert_eq!(classify(None, 0.0, None), Quality::Good);
    }

    #[test]
    fn rates_and_loss_come_from_the_interval_between_two_reports() {
        let mut meter = QualityMeter::default();
        assert_eq!(meter.sample(report(1, 24, 0, 3)), None, "one report is no interval");
        let view = meter.sample(report(2, 24, 0, 3)).unwrap();
        assert_eq!(view.quality, Quality::Good);
        assert_eq!((view.in_bps, view.out_bps), (1_000_000, 500_000));
        assert_eq!(view.loss_pct, 0.0);
        assert_eq!(
            view.description(),
            "Good connection: 24 ms round trip, 0% loss, 3 ms jitter, 1.0 Mb/s received, \
             500 kb/s sent"
        );
        let mut meter = QualityMeter::default();
        meter.sample(report(1, 24, 5, 3));
        let view = meter.sample(report(2, 24, 5, 3)).unwrap();
        assert_eq!(view.loss_pct, 5.0);
        assert_eq!(view.quality, Quality::Fair);
    }

    #[test]
    fn a_worse_class_shows_after_two_samples_a_better_after_three() {
        let mut meter = QualityMeter::default();
        meter.sample(report(1, 24, 0, 3));
        let mut n = 1;
        let mut next = |meter: &mut QualityMeter, rtt| {
            n += 1;
            meter.sample(report(n, rtt, 0, 3)).unwrap().quality
        };
        assert_eq!(next(&mut meter, 24), Quality::Good);
        // One bad sample is a moment, two are a trend.
        assert_eq!(next(&mut meter, 500), Quality::Good);
        assert_eq!(next(&mut meter, 24), Quality::Good);
        assert_eq!(next(&mut meter, 500), Quality::Good);
        assert_eq!(next(&mut meter, 500), Quality::Poor);
        // Back to good takes three in a row; a fair one between starts the count again.
        assert_eq!(next(&mut meter, 24), Quality::Poor);
        assert_eq!(next(&mut meter, 24), Quality::Poor);
        assert_eq!(next(&mut meter, 300), Quality::Poor);
        assert_eq!(next(&mut meter, 24), Quality::Poor);
        assert_eq!(next(&mut meter, 24), Quality::Poor);
        assert_eq!(next(&mut meter, 24), Quality::Good);
        // Flapping across the 200 ms line never changes what is shown.
        for _ in 0..5 {
            assert_eq!(next(&mut meter, 210), Quality::Good);
            assert_eq!(next(&mut meter, 190), Quality::Good);
        }
    }

    #[test]
    fn counters_that_go_back_start_again_instead_of_inventing_a_rate() {
        let mut meter = QualityMeter::default();
        meter.sample(report(5, 24, 0, 3));
        assert_eq!(meter.sample(report(1, 24, 0, 3)), None, "a new connection's counters");
        assert!(meter.sample(report(2, 24, 0, 3)).is_some());
        assert_eq!(meter.sample(report(2, 24, 0, 3)), None, "no time passed");
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.44), "0.4%");
        assert_eq!(percent(2.0), "2%");
        assert_eq!(percent(12.4), "12%");
        assert_eq!(bit_rate(0), "0 kb/s");
        assert_eq!(bit_rate(849_600), "850 kb/s");
        assert_eq!(bit_rate(1_234_000), "1.2 Mb/s");
        let view = QualityView {
            quality: Quality::Poor,
            rtt_ms: None,
            loss_pct: 12.0,
            jitter_ms: None,
            in_bps: 64_000,
            out_bps: 1_500_000,
            interrupted: false,
        };
        assert_eq!(
            view.description(),
            "Poor connection: round trip unknown, 12% loss, 64 kb/s received, 1.5 Mb/s sent"
        );
        assert_eq!(
            QualityView::INTERRUPTED.description(),
            "Poor connection: interrupted, nothing gets through right now"
        );
    }
}
