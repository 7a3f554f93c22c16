//! Two sessions in memory, honest and attacked.

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::link::{CallId, CallLink};
use shieldcall_e2ee::messages::Signal;
use shieldcall_e2ee::session::{
    Policy, Role, Session, SessionConfig, ShieldState, UnlockedReason, WarningReason,
};
use shieldcall_e2ee::sframe::{CipherSuite, DropReason, Receiver, Sender};

/// Deterministic test randomness: SHA-256 in counter mode over a seed.
struct TestRng([u8; 32], u64);

impl TestRng {
    fn new(seed: &str) -> Self {
        TestRng(Sha256::digest(seed.as_bytes()).into(), 0)
    }
}

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.1 += 1;
            let block =
                Sha256::new().chain_update(self.0).chain_update(self.1.to_le_bytes()).finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

fn sdp(fill: &str) -> String {
    let fp = vec![fill; 32].join(":");
    format!(
        "v=0\r\na=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n"
    )
}

struct Call {
    host: Session,
    guest: Session,
}

fn config(role: Role, call_id: CallId, e2ee: bool, policy: Policy) -> SessionConfig {
    SessionConfig { role, call_id, e2ee, policy, suite: CipherSuite::default() }
}

/// Sets up both sides; `relay` may rewrite each hello in transit.
fn call(
    host_e2ee: bool,
    guest_e2ee: bool,
    guest_policy: Policy,
    relay: impl Fn(Role, Signal) -> Signal,
) -> Call {
    let mut rng = TestRng::new("call");
    let call_id = CallId::generate(&mut rng);
    let host_key = EphemeralSecret::generate(&mut rng);
    let guest_key = EphemeralSecret::generate(&mut rng);
    let mut host = Session::new(config(Role::Host, call_id, host_e2ee, Policy::Allowed), host_key);
    let mut guest = Session::new(config(Role::Guest, call_id, guest_e2ee, guest_policy), guest_key);

    // The link goes from host to guest out of band; the relay never sees it.
    let link = format!("https://shieldcall.test/call/{call_id}#k={}", host.link_commitment());
    let link = CallLink::parse(&link).expect("host makes a valid link");
    guest.set_link_commitment(link.commitment);
    assert!(
        !matches!(guest.state(), ShieldState::Locked { .. }),
        "no lock before the peer's hello"
    );

    // Hellos cross through the relay.
    let host_hello = relay(Role::Host, host.hello());
    let guest_hello = relay(Role::Guest, guest.hello());
    let _ = guest.peer_hello(&host_hello);
    let _ = host.peer_hello(&guest_hello);

    exchange_sdps(&mut host, &mut guest, "AA", "BB");
    Call { host, guest }
}

/// Offer and answer, with certificates whose fingerprints are `offer_fp` and `answer_fp`
/// repeated.
fn exchange_sdps(host: &mut Session, guest: &mut Session, offer_fp: &str, answer_fp: &str) {
    let (offer, answer) = (sdp(offer_fp), sdp(answer_fp));
    host.local_sdp(&offer).expect("offer has a fingerprint");
    guest.remote_sdp(&offer).expect("offer has a fingerprint");
    guest.local_sdp(&answer).expect("answer has a fingerprint");
    host.remote_sdp(&answer).expect("answer has a fingerprint");
}

fn honest(_: Role, hello: Signal) -> Signal {
    hello
}

#[test]
fn two_sessions_agree_on_keys_and_code_and_media_flows() {
    let Call { host, guest } = call(true, true, Policy::Allowed, honest);
    let ShieldState::Locked { code } = host.state() else { panic!("host {:?}", host.state()) };
    assert_eq!(guest.state(), ShieldState::Locked { code });
    assert_eq!(code.digits().len(), 20);

    let (hk, gk) = (host.keys().expect("locked"), guest.keys().expect("locked"));
    assert_eq!(hk.send, gk.receive);
    assert_eq!(hk.receive, gk.send);
    assert_ne!(hk.send, hk.receive);
    assert_eq!(hk.send.expose().len(), 16);
    let shown = format!("{host:?} {hk:?}");
    assert!(shown.contains("<redacted>") && !shown.contains(&format!("{:?}", hk.send.expose())));

    // A frame from the host's camera opens at the guest, and only once.
    let mut sender = Sender::new(hk.suite, hk.send.clone(), 0, Slot::Camera).expect("epoch 0");
    let mut receiver = Receiver::new(gk.suite, gk.receive.clone(), 0).only_slot(Slot::Camera);
    let mut frame = vec![0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    sender.encrypt_in_place(&mut frame, 10).expect("sends");
    let wire = frame.clone();
    receiver.decrypt_in_place(&mut frame, 10, 0).expect("opens");
    assert_eq!(frame, [0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(receiver.decrypt_in_place(&mut wire.clone(), 10, 0), Err(DropReason::Replay));
}

#[test]
fn man_in_the_middle_gives_different_codes_and_a_warning() {
    // The relay replaces each hello's key with one of its own.
    let mut rng = TestRng::new("mallory");
    let fake_for_guest = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    let fake_for_host = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    let Call { host, guest } = call(true, true, Policy::Allowed, |from, hello| match hello {
        Signal::Hello { v, e2ee, .. } => Signal::Hello {
            v,
            e2ee,
            public_key: match from {
                Role::Host => fake_for_guest.clone(),
                Role::Guest => fake_for_host.clone(),
            },
        },
        other => other,
    });
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::CommitmentMismatch });
    assert!(guest.keys().is_none());
    // The host cannot tell from the keys alone; the codes differ, which people see.
    let ShieldState::Locked { code } = host.state() else { panic!("host {:?}", host.state()) };
    let guest_code = guest.security_code().expect("the guest still computes a code to compare");
    assert_ne!(code, guest_code);
}

#[test]
fn swapping_only_the_guest_key_still_shows_in_the_codes() {
    // The relay passes the host's real key (the commitment holds) but fakes the guest's.
    let mut rng = TestRng::new("mallory-2");
    let fake = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    let Call { mut host, mut guest } =
        call(true, true, Policy::Allowed, |from, hello| match (from, hello) {
            (Role::Guest, Signal::Hello { v, e2ee, .. }) => {
                Signal::Hello { v, e2ee, public_key: fake.clone() }
            }
            (_, other) => other,
        });
    let (ShieldState::Locked { code: h }, ShieldState::Locked { code: g }) =
        (host.state(), guest.state())
    else {
        panic!("both lock: {:?} {:?}", host.state(), guest.state())
    };
    assert_ne!(h, g);
    // Their keys differ, so media fails to open and the app reports it.
    assert_ne!(host.keys().expect("locked").send, guest.keys().expect("locked").receive);
    guest.report_decrypt_failures();
    host.report_decrypt_failures();
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::DecryptFailures });
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::DecryptFailures });
    assert!(guest.keys().is_none());
}

#[test]
fn a_peer_with_e2ee_off_unlocks_both() {
    let Call { host, guest } = call(true, false, Policy::Allowed, honest);
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
    assert_eq!(guest.state(), ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff });
    assert!(host.keys().is_none() && guest.keys().is_none());

    let Call { host, guest } = call(false, true, Policy::Allowed, honest);
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff });
    assert_eq!(guest.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
}

#[test]
fn organisation_policy_unlocks_with_its_reason() {
    let Call { host, guest } = call(true, true, Policy::Disabled, honest);
    assert_eq!(
        guest.state(),
        ShieldState::Unlocked { reason: UnlockedReason::OrganisationDisabled }
    );
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
    assert!(guest.keys().is_none());
    match guest.hello() {
        Signal::Hello { e2ee, .. } => assert!(!e2ee, "a disabled side must not offer E2EE"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_peer_input_warns() {
    let mut rng = TestRng::new("bad");
    let call_id = CallId::generate(&mut rng);
    let mut host = Session::new(
        config(Role::Host, call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
    );
    let not_a_point = Signal::Hello { v: 1, e2ee: true, public_key: "BAAA".into() };
    assert!(host.peer_hello(&not_a_point).is_err());
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::InvalidPeerKey });

    let mut host = Session::new(
        config(Role::Host, call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
    );
    let first = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    let second = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    host.peer_hello(&Signal::Hello { v: 1, e2ee: true, public_key: first.clone() }).expect("valid");
    host.peer_hello(&Signal::Hello { v: 1, e2ee: true, public_key: first })
        .expect("repeat is fine");
    assert_eq!(host.state(), ShieldState::Connecting);
    host.peer_hello(&Signal::Hello { v: 1, e2ee: true, public_key: second }).expect("valid");
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    assert!(host.local_sdp("v=0\r\n").is_err());
}

#[test]
fn call_ids_come_from_the_given_rng() {
    let a = CallId::generate(&mut TestRng::new("x"));
    let b = CallId::generate(&mut TestRng::new("x"));
    let c = CallId::generate(&mut TestRng::new("y"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.to_string().len(), 22);
    assert_eq!(CallId::parse(&a.to_string()), Ok(a));
}

#[test]
fn a_guest_who_reloads_gets_a_fresh_agreement_with_the_same_host_key() {
    let Call { mut host, guest } = call(true, true, Policy::Allowed, honest);
    let ShieldState::Locked { code: first } = host.state() else { panic!("{:?}", host.state()) };
    let first_keys = host.keys().expect("locked").clone();
    drop(guest);

    // The guest reloads: a new page, a new key; the host keeps its own (the link commits to it).
    host.restart();
    assert_eq!(host.state(), ShieldState::Connecting);
    assert!(host.keys().is_none(), "no keys from the old peer survive");
    let mut rng = TestRng::new("reloaded guest");
    let call_id = CallId::generate(&mut TestRng::new("call"));
    let mut guest = Session::new(
        config(Role::Guest, call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
    );
    guest.set_link_commitment(host.link_commitment());
    guest.peer_hello(&host.hello()).expect("valid hello");
    host.peer_hello(&guest.hello()).expect("a new peer's key is no key change");
    exchange_sdps(&mut host, &mut guest, "CC", "DD");

    let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
    assert_eq!(guest.state(), ShieldState::Locked { code });
    assert_ne!(code, first, "a new agreement, a new code");
    assert_ne!(host.keys().expect("locked").send, first_keys.send);
}

#[test]
fn a_new_connection_with_the_same_peer_gets_new_keys_and_never_the_old_ones() {
    let Call { mut host, mut guest } = call(true, true, Policy::Allowed, honest);
    let ShieldState::Locked { code: first } = host.state() else { panic!("{:?}", host.state()) };

    // A new connection: new DTLS certificates, so new fingerprints, so new keys.
    host.restart_connection();
    guest.restart_connection();
    exchange_sdps(&mut host, &mut guest, "EE", "FF");
    let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
    assert_eq!(guest.state(), ShieldState::Locked { code });
    assert_ne!(code, first);

    // The same fingerprints again would give the same keys, whose counters start at 0 again:
    // refused.
    host.restart_connection();
    host.local_sdp(&sdp("EE")).unwrap();
    host.remote_sdp(&sdp("FF")).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::RepeatedKeys });
    assert!(host.keys().is_none());
}

#[test]
fn a_hello_that_flips_e2ee_mid_call_is_refused_and_keys_are_never_handed_out_twice() {
    let Call { mut host, guest } = call(true, true, Policy::Allowed, honest);
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    let handed = host.take_keys().expect("locked: keys to hand to the worker");
    assert!(host.take_keys().is_none(), "handed over once, no copy kept");
    assert!(host.keys().is_none());

    // Someone on the path replays the guest's hello with E2EE off, then on again.
    let Signal::Hello { v, public_key, .. } = guest.hello() else { unreachable!() };
    let flipped = Signal::Hello { v, e2ee: false, public_key: public_key.clone() };
    host.peer_hello(&flipped).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    host.peer_hello(&Signal::Hello { v, e2ee: true, public_key }).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    assert!(host.take_keys().is_none());
    assert!(host.knows_peer(&guest.hello()));
    drop(handed);
}
