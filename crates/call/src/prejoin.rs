//! What the pre-join screen shows, decided without a browser: what end-to-end encryption will
//! mean for this call (from the person's setting and the organisation's policy, the same two the
//! settings page and the shield read), what the browser said about the camera and the
//! microphone and how to fix a refusal, with what the call starts, and the microphone level.
//!
//! The page asks for the devices, reads the answers into [`DeviceAccess`] and shows
//! [`PreJoin`]'s words; joining hands the call [`PreJoin::joins_with`].

use shieldcall_e2ee::session::ShieldState;

use crate::controller::CallStatus;

/// The camera or the microphone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Microphone,
    Camera,
}

impl Device {
    /// As the page names it.
    pub fn name(self) -> &'static str {
        match self {
            Device::Microphone => "microphone",
            Device::Camera => "camera",
        }
    }
}

/// What the browser answered when asked for one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceAccess {
    /// Not answered yet (a permission prompt may be open).
    Asking,
    /// The device works.
    Granted,
    /// The person, or the browser's settings for this site, refused it.
    Blocked,
    /// There is no such device.
    Missing,
    /// It exists but cannot be started (another app holds it, or the hardware failed).
    Busy,
    /// This page cannot ask at all (no `navigator.mediaDevices`: not a secure context).
    Unsupported,
}

impl DeviceAccess {
    /// From the `name` of the `DOMException` that `getUserMedia` rejected with.
    pub fn from_error(name: &str) -> Self {
        match name {
            // SecurityError: a policy of the page or the browser forbids it; fixed the same way.
            "NotAllowedError" | "SecurityError" => DeviceAccess::Blocked,
            "NotReadableError" | "AbortError" => DeviceAccess::Busy,
            _ => DeviceAccess::Missing,
        }
    }

    /// The `data-access` hook.
    pub fn hook(self) -> &'static str {
        match self {
            DeviceAccess::Asking => "asking",
            DeviceAccess::Granted => "granted",
            DeviceAccess::Blocked => "blocked",
            DeviceAccess::Missing => "missing",
            DeviceAccess::Busy => "busy",
            DeviceAccess::Unsupported => "unsupported",
        }
    }
}

/// What end-to-end encryption will be for this call, as far as this side decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E2eePlan {
    /// On here; whether the call is end-to-end encrypted depends on the other person too.
    On,
    /// The person turned it off in Settings.
    YouTurnedOff,
    /// The organisation's policy does not allow it (whatever the person chose).
    NotAllowed,
}

impl E2eePlan {
    /// From the person's setting and the organisation's policy: the policy wins, as in the
    /// settings page and the call's shield.
    pub fn new(chosen: bool, allowed: bool) -> Self {
        match (allowed, chosen) {
            (false, _) => E2eePlan::NotAllowed,
            (true, true) => E2eePlan::On,
            (true, false) => E2eePlan::YouTurnedOff,
        }
    }

    /// The `data-e2ee-plan` hook.
    pub fn hook(self) -> &'static str {
        match self {
            E2eePlan::On => "on",
            E2eePlan::YouTurnedOff => "off",
            E2eePlan::NotAllowed => "policy-off",
        }
    }

    /// The short title.
    pub fn title(self) -> &'static str {
        match self {
            E2eePlan::On => "End-to-end encryption is on",
            E2eePlan::YouTurnedOff => "End-to-end encryption is off",
            E2eePlan::NotAllowed => "End-to-end encryption is not allowed",
        }
    }

    /// What it means for this call.
    pub fn detail(self) -> &'static str {
        match self {
            E2eePlan::On => {
                "If the other person has it on too, only the two of you can hear and see this \
                 call, and the shield shows a lock with a security code to compare."
            }
            E2eePlan::YouTurnedOff => {
                "You turned it off in Settings: this call will be protected by transport \
                 encryption only, and the other person will see that."
            }
            E2eePlan::NotAllowed => {
                "Your organisation has turned off end-to-end encrypted calls: this call will be \
                 protected by transport encryption only."
            }
        }
    }

    /// What is known of the other side before it joins.
    pub fn other_side(self) -> &'static str {
        match self {
            E2eePlan::On => {
                "The other person's setting is not known until they join; if theirs is off, the \
                 call is not end-to-end encrypted and the shield says so."
            }
            E2eePlan::YouTurnedOff | E2eePlan::NotAllowed => {
                "The other person's setting is not known until they join; it does not change \
                 this."
            }
        }
    }
}

/// The pre-join screen's state: the plan for E2EE, what the browser answered for each device,
/// and whether the person wants each on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreJoin {
    pub e2ee: E2eePlan,
    pub microphone: DeviceAccess,
    pub camera: DeviceAccess,
    /// The microphone toggle (on unless the person turned it off).
    pub mic_wanted: bool,
    /// The camera toggle.
    pub camera_wanted: bool,
}

impl PreJoin {
    /// Before the browser answered: both wanted.
    pub fn new(e2ee: E2eePlan) -> Self {
        Self {
            e2ee,
            microphone: DeviceAccess::Asking,
            camera: DeviceAccess::Asking,
            mic_wanted: true,
            camera_wanted: true,
        }
    }

    fn access(&self, device: Device) -> DeviceAccess {
        match device {
            Device::Microphone => self.microphone,
            Device::Camera => self.camera,
        }
    }

    fn wanted(&self, device: Device) -> bool {
        match device {
            Device::Microphone => self.mic_wanted,
            Device::Camera => self.camera_wanted,
        }
    }

    /// Whether the device's toggle can be used: only a device that works can be turned on.
    pub fn can_toggle(&self, device: Device) -> bool {
        self.access(device) == DeviceAccess::Granted
    }

    /// Whether the device is on: it works and the person wants it.
    pub fn is_on(&self, device: Device) -> bool {
        self.can_toggle(device) && self.wanted(device)
    }

    /// What the call starts with: `(microphone on, camera on)`. A device that never worked
    /// stays off for the whole call (the call cannot turn it on).
    pub fn joins_with(&self) -> (bool, bool) {
        (self.is_on(Device::Microphone), self.is_on(Device::Camera))
    }

    /// What went wrong with the device, and how to fix it; `None` while asking or when it works.
    pub fn problem(&self, device: Device) -> Option<String> {
        let name = device.name();
        let what = match self.access(device) {
            DeviceAccess::Asking | DeviceAccess::Granted => return None,
            DeviceAccess::Blocked => format!(
                "Your browser blocks the {name} for this site. To use it, allow the {name} in \
                 the site's permissions (the icon at the left of the address bar), then reload \
                 the page."
            ),
            DeviceAccess::Missing => {
                format!("No {name} was found. Connect one, then reload the page.")
            }
            DeviceAccess::Busy => format!(
                "The {name} could not be started: another app may be using it. Close that app, \
                 then reload the page."
            ),
            DeviceAccess::Unsupported => format!(
                "This page cannot use a {name}: open it over https (or on this computer's own \
                 address)."
            ),
        };
        Some(format!("{what} You can join without it."))
    }

    /// Whether either device failed (the screen then shows its problems as an alert).
    pub fn has_problem(&self) -> bool {
        self.problem(Device::Microphone).is_some() || self.problem(Device::Camera).is_some()
    }

    /// What the call says once joined about a device that never worked, as before the pre-join
    /// screen existed; `None` when both work (or the browser has not answered yet).
    pub fn call_notice(&self) -> Option<String> {
        let failed =
            |access: DeviceAccess| !matches!(access, DeviceAccess::Granted | DeviceAccess::Asking);
        match (failed(self.microphone), failed(self.camera)) {
            (false, false) => None,
            (true, true) => {
                let why = if self.microphone == DeviceAccess::Blocked
                    && self.camera == DeviceAccess::Blocked
                {
                    "You blocked the camera and microphone"
                } else {
                    "No camera or microphone could be used"
                };
                Some(format!("{why}; you can still hear, see and chat with the other person."))
            }
            (mic, _) => {
                let missing = if mic { "microphone" } else { "camera" };
                Some(format!("Your {missing} is unavailable; the call goes on without it."))
            }
        }
    }
}

/// The microphone level meter's value, 0 to 1, from the root mean square of a block of samples
/// (full scale 1): decibels from -60 dBFS (0, silence and the noise floor) to 0 dBFS (1), the
/// way level meters read, so that speech moves the bar visibly.
pub fn mic_level(rms: f32) -> f64 {
    const FLOOR_DB: f64 = -60.0;
    let rms = f64::from(rms);
    if !rms.is_finite() || rms <= 0.0 {
        return 0.0;
    }
    let db = 20.0 * rms.log10();
    ((db - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0)
}

/// The root mean square of `samples`.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f32 = samples.iter().map(|s| s * s).sum();
    (sum / samples.len() as f32).sqrt()
}

/// After Join the pre-join screen stays, its button saying "Joining…", for at most this long.
pub const JOINING_AT_MOST_MS: u64 = 1_500;

/// What the relay has said of the room since Join, as far as the call screen cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomNews {
    /// Nothing yet, or the other person is there.
    NothingToShow,
    /// This page is alone in the room: the call waits for the other person.
    Alone,
    /// The room is full, or the relay cannot be reached.
    Trouble,
}

/// Whether the call screen replaces the pre-join screen, some time after Join. Building the
/// call screen keeps the page's main thread for tens of milliseconds (about 50 measured in
/// Chromium on 2 cores), and while the call sets itself up that thread has better things to do:
/// read the relay, agree keys, answer the host. So the pre-join screen stays until the call has
/// something to show: a shield (locked, unlocked or red), a call that waits alone or ended,
/// trouble with the relay; and never longer than [`JOINING_AT_MOST_MS`]. ("Waiting" alone is
/// not enough: the call says it as soon as its media worker runs, before the relay has said
/// whether the other person is there; nor is "connected": the media can connect before the key
/// confirmation that decides the shield, and a fresh-clone CI run saw the call screen built in
/// between hold that confirmation back for 229 ms.) Once shown, the call screen stays.
pub fn call_screen_due(
    status: &CallStatus,
    shield: &ShieldState,
    room: RoomNews,
    since_join_ms: u64,
) -> bool {
    let settled = match status {
        // Media may connect a moment before the keys are confirmed: the shield comes next.
        CallStatus::Preparing | CallStatus::Connecting | CallStatus::Connected => false,
        CallStatus::Waiting => room == RoomNews::Alone,
        _ => true,
    };
    settled
        || since_join_ms >= JOINING_AT_MOST_MS
        || room == RoomNews::Trouble
        || !matches!(shield, ShieldState::Connecting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shieldcall_e2ee::code::SecurityCode;
    use shieldcall_e2ee::keys::TranscriptHash;
    use shieldcall_e2ee::session::{UnlockedReason, WarningReason};

    #[test]
    fn the_policy_wins_over_the_setting_as_on_the_settings_page_and_the_shield() {
        assert_eq!(E2eePlan::new(true, true), E2eePlan::On);
        assert_eq!(E2eePlan::new(false, true), E2eePlan::YouTurnedOff);
        assert_eq!(E2eePlan::new(true, false), E2eePlan::NotAllowed);
        assert_eq!(E2eePlan::new(false, false), E2eePlan::NotAllowed);
        for plan in [E2eePlan::On, E2eePlan::YouTurnedOff, E2eePlan::NotAllowed] {
            assert!(plan.other_side().contains("not known until they join"), "{plan:?}");
        }
        assert!(E2eePlan::NotAllowed.detail().contains("organisation"));
        assert!(E2eePlan::YouTurnedOff.detail().contains("transport encryption only"));
        assert!(E2eePlan::On.other_side().contains("if theirs is off"));
    }

    #[test]
    fn device_errors_are_read_by_name() {
        assert_eq!(DeviceAccess::from_error("NotAllowedError"), DeviceAccess::Blocked);
        assert_eq!(DeviceAccess::from_error("SecurityError"), DeviceAccess::Blocked);
        assert_eq!(DeviceAccess::from_error("NotFoundError"), DeviceAccess::Missing);
        assert_eq!(DeviceAccess::from_error("OverconstrainedError"), DeviceAccess::Missing);
        assert_eq!(DeviceAccess::from_error("NotReadableError"), DeviceAccess::Busy);
        assert_eq!(DeviceAccess::from_error(""), DeviceAccess::Missing);
    }

    #[test]
    fn the_toggles_carry_into_the_call() {
        let mut pre = PreJoin::new(E2eePlan::On);
        assert_eq!(pre.joins_with(), (false, false), "nothing is on before the browser answers");
        pre.microphone = DeviceAccess::Granted;
        pre.camera = DeviceAccess::Granted;
        assert_eq!(pre.joins_with(), (true, true));
        pre.mic_wanted = false;
        assert_eq!(pre.joins_with(), (false, true), "muted before joining, muted in the call");
        pre.camera_wanted = false;
        assert_eq!(pre.joins_with(), (false, false));
        assert!(!pre.has_problem());
        assert_eq!(pre.call_notice(), None);
    }

    #[test]
    fn a_blocked_device_says_how_to_fix_it_and_the_call_goes_on_without_it() {
        let mut pre = PreJoin::new(E2eePlan::On);
        pre.microphone = DeviceAccess::Granted;
        pre.camera = DeviceAccess::Blocked;
        assert!(!pre.can_toggle(Device::Camera));
        assert_eq!(pre.joins_with(), (true, false), "a wanted but blocked camera is off");
        let problem = pre.problem(Device::Camera).unwrap();
        assert!(problem.contains("blocks the camera"), "{problem}");
        assert!(problem.contains("site's permissions"), "says where to fix it: {problem}");
        assert!(problem.ends_with("You can join without it."), "{problem}");
        assert_eq!(pre.problem(Device::Microphone), None);
        assert!(pre.has_problem());
        assert_eq!(
            pre.call_notice().as_deref(),
            Some("Your camera is unavailable; the call goes on without it.")
        );
    }

    #[test]
    fn each_failure_has_its_own_words() {
        let mut seen = Vec::new();
        for access in [
            DeviceAccess::Blocked,
            DeviceAccess::Missing,
            DeviceAccess::Busy,
            DeviceAccess::Unsupported,
        ] {
            let pre = PreJoin { microphone: access, ..PreJoin::new(E2eePlan::On) };
            let problem = pre.problem(Device::Microphone).unwrap();
            assert!(problem.contains("microphone"), "{problem}");
            assert!(!seen.contains(&problem), "{access:?}");
            seen.push(problem);
        }
        let asking = PreJoin::new(E2eePlan::On);
        assert_eq!(asking.problem(Device::Camera), None, "no problem while asking");
        assert_eq!(asking.call_notice(), None);
    }

    #[test]
    fn both_failing_is_told_as_the_call_told_it_before() {
        let both =
            |microphone, camera| PreJoin { microphone, camera, ..PreJoin::new(E2eePlan::On) };
        assert_eq!(
            both(DeviceAccess::Blocked, DeviceAccess::Blocked).call_notice().as_deref(),
            Some(
                "You blocked the camera and microphone; you can still hear, see and chat with \
                  the other person."
            )
        );
        assert!(
            both(DeviceAccess::Missing, DeviceAccess::Blocked)
                .call_notice()
                .unwrap()
                .starts_with("No camera or microphone could be used")
        );
        assert_eq!(
            both(DeviceAccess::Busy, DeviceAccess::Granted).call_notice().as_deref(),
            Some("Your microphone is unavailable; the call goes on without it.")
        );
    }

    #[test]
    fn the_level_reads_in_decibels_from_silence_to_full_scale() {
        assert_eq!(mic_level(0.0), 0.0);
        assert_eq!(mic_level(f32::NAN), 0.0);
        assert_eq!(mic_level(0.000_1), 0.0, "-80 dBFS is under the floor");
        assert!(mic_level(0.001) < 1e-6, "-60 dBFS");
        assert!((mic_level(0.01) - 1.0 / 3.0).abs() < 1e-6, "-40 dBFS");
        assert!((mic_level(0.1) - 2.0 / 3.0).abs() < 1e-6, "-20 dBFS");
        assert_eq!(mic_level(1.0), 1.0);
        assert_eq!(mic_level(4.0), 1.0, "clipped");
        assert_eq!(rms(&[]), 0.0);
        assert!((rms(&[0.5, -0.5, 0.5, -0.5]) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_call_screen_waits_for_the_call_to_have_something_to_show() {
        let (connecting, preparing) = (CallStatus::Connecting, CallStatus::Preparing);
        let setting_up = ShieldState::Connecting;
        let quiet = RoomNews::NothingToShow;
        // Setting up, with nothing from the relay yet: the pre-join screen stays, up to its
        // limit. "Waiting" comes with the media worker, before the relay says who is there;
        // "connected" (the media) can come before the confirmation that decides the shield.
        for status in [&preparing, &connecting, &CallStatus::Waiting, &CallStatus::Connected] {
            assert!(!call_screen_due(status, &setting_up, quiet, 0), "{status:?}");
            assert!(!call_screen_due(status, &setting_up, quiet, JOINING_AT_MOST_MS - 1));
            assert!(call_screen_due(status, &setting_up, quiet, JOINING_AT_MOST_MS));
        }
        // A shield of any kind, a call that waits alone or ended, trouble with the relay: at once.
        let code = SecurityCode::from_transcript(&TranscriptHash([0; 32]));
        assert!(call_screen_due(&connecting, &ShieldState::Locked { code }, quiet, 0));
        let unlocked = ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff };
        assert!(call_screen_due(&connecting, &unlocked, quiet, 0));
        let warning = ShieldState::Warning { reason: WarningReason::DecryptFailures };
        assert!(call_screen_due(&connecting, &warning, quiet, 0));
        assert!(call_screen_due(&CallStatus::Waiting, &setting_up, RoomNews::Alone, 0));
        assert!(!call_screen_due(&connecting, &setting_up, RoomNews::Alone, 0), "a hello came");
        assert!(call_screen_due(&CallStatus::Ended("full".into()), &setting_up, quiet, 0));
        assert!(call_screen_due(&CallStatus::PeerLeft, &setting_up, quiet, 0));
        assert!(call_screen_due(&preparing, &setting_up, RoomNews::Trouble, 0));
    }
}
