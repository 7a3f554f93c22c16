//! Two sessions in memory, honest and attacked.

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use shieldcall_e2ee::keys::{self, ConfirmFrom, Confirmation, EphemeralSecret};
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::link::{CallLink, LinkSecret, new_call_id};
use shieldcall_e2ee::session::{
    self, MoveIntentRefused, Policy, Role, Session, SessionConfig, SessionEvent, ShieldState,
    UnlockedReason, WarningReason,
};
use shieldcall_e2ee::sframe::{CipherSuite, DropReason, Receiver, Sender};
use shieldcall_protocol::{
    CallId, Confirm, Hello, MoveIntent, PROTOCOL_VERSION, Signal, base64url,
};

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
    /// What the host shared with the guest.
    link: CallLink,
}

fn config(role: Role, call_id: CallId, e2ee: bool, policy: Policy) -> SessionConfig {
    SessionConfig { role, call_id, e2ee, policy, suite: CipherSuite::default() }
}

/// Sets up both sides; `relay` may rewrite each signal (hellos, descriptions, confirmations)
/// in transit, and learns neither the link nor its secret.
fn call(
    host_e2ee: bool,
    guest_e2ee: bool,
    guest_policy: Policy,
    relay: impl Fn(Role, Signal) -> Signal,
) -> Call {
    let mut rng = TestRng::new("call");
    let call_id = new_call_id(&mut rng);
    let host_key = EphemeralSecret::generate(&mut rng);
    let guest_key = EphemeralSecret::generate(&mut rng);
    let secret = LinkSecret::generate(&mut rng);
    let host_config = config(Role::Host, call_id, host_e2ee, Policy::Allowed);
    let mut host = Session::new(host_config, host_key, secret.clone());

    // The link goes from host to guest out of band; the relay never sees it.
    let link = CallLink {
        origin: "https://shieldcall.test".into(),
        call_id,
        commitment: host.link_commitment(),
        secret,
    };
    let link = CallLink::parse(&link.to_shareable()).expect("host makes a valid link");
    let guest_config = config(Role::Guest, call_id, guest_e2ee, guest_policy);
    let mut guest = Session::new(guest_config, guest_key, link.secret.clone());
    guest.set_link_commitment(link.commitment);
    assert!(
        !matches!(guest.state(), ShieldState::Locked { .. }),
        "no lock before the peer's hello"
    );

    // Hellos cross through the relay.
    let host_hello = as_hello(relay(Role::Host, Signal::Hello(host.hello())));
    let guest_hello = as_hello(relay(Role::Guest, Signal::Hello(guest.hello())));
    let _ = guest.peer_hello(&host_hello);
    let _ = host.peer_hello(&guest_hello);

    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &relay);
    for side in [&host, &guest] {
        assert!(!side.confirmed(), "nothing confirmed before the peer's confirmation");
        assert!(!matches!(side.state(), ShieldState::Locked { .. }), "no lock before it");
        if side.offers_e2ee() {
            assert!(!matches!(side.state(), ShieldState::Unlocked { .. }), "nor peer-has-it-off");
        }
    }
    exchange_confirmations(&mut host, &mut guest, &relay);
    Call { host, guest, link }
}

/// Offer and answer, with certificates whose fingerprints are `offer_fp` and `answer_fp`
/// repeated; each side then confirms the transcript it saw.
fn exchange_sdps(host: &mut Session, guest: &mut Session, offer_fp: &str, answer_fp: &str) {
    exchange_sdps_via(host, guest, offer_fp, answer_fp, &honest);
    exchange_confirmations(host, guest, &honest);
}

fn exchange_sdps_via(
    host: &mut Session,
    guest: &mut Session,
    offer_fp: &str,
    answer_fp: &str,
    relay: &impl Fn(Role, Signal) -> Signal,
) {
    let offer = Signal::Offer { sdp: sdp(offer_fp) };
    let answer = Signal::Answer { sdp: sdp(answer_fp) };
    let (Signal::Offer { sdp: sent_offer }, Signal::Answer { sdp: sent_answer }) =
        (&offer, &answer)
    else {
        unreachable!()
    };
    let Signal::Offer { sdp: received_offer } = relay(Role::Host, offer.clone()) else {
        panic!("the relay turned the offer into something else")
    };
    let Signal::Answer { sdp: received_answer } = relay(Role::Guest, answer.clone()) else {
        panic!("the relay turned the answer into something else")
    };
    host.local_sdp(sent_offer).expect("offer has a fingerprint");
    guest.remote_sdp(&received_offer).expect("offer has a fingerprint");
    guest.local_sdp(sent_answer).expect("answer has a fingerprint");
    host.remote_sdp(&received_answer).expect("answer has a fingerprint");
}

fn exchange_confirmations(
    host: &mut Session,
    guest: &mut Session,
    relay: &impl Fn(Role, Signal) -> Signal,
) {
    let from_host = relay(Role::Host, Signal::Confirm(host.confirm().expect("a transcript")));
    let from_guest = relay(Role::Guest, Signal::Confirm(guest.confirm().expect("a transcript")));
    let (from_host, from_guest) = (as_confirm(from_host), as_confirm(from_guest));
    guest.peer_confirm(&from_host).expect("a 32-byte confirmation");
    host.peer_confirm(&from_guest).expect("a 32-byte confirmation");
}

fn as_hello(signal: Signal) -> Hello {
    match signal {
        Signal::Hello(hello) => hello,
        _ => panic!("the relay turned a hello into something else"),
    }
}

fn as_confirm(signal: Signal) -> Confirm {
    match signal {
        Signal::Confirm(confirm) => confirm,
        _ => panic!("the relay turned a confirmation into something else"),
    }
}

fn honest(_: Role, signal: Signal) -> Signal {
    signal
}

/// A fresh host session for `call_id`, as the tests that do not need a whole call use.
fn lone_host(rng: &mut TestRng, call_id: CallId) -> Session {
    Session::new(
        config(Role::Host, call_id, true, Policy::Allowed),
        EphemeralSecret::generate(rng),
        LinkSecret::generate(rng),
    )
}

#[test]
fn two_sessions_agree_on_keys_and_code_and_media_flows() {
    let Call { host, guest, .. } = call(true, true, Policy::Allowed, honest);
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
    let Call { host, guest, .. } = call(true, true, Policy::Allowed, |from, hello| match hello {
        Signal::Hello(Hello { v, e2ee, .. }) => Signal::Hello(Hello {
            v,
            e2ee,
            public_key: match from {
                Role::Host => fake_for_guest.clone(),
                Role::Guest => fake_for_host.clone(),
            },
        }),
        other => other,
    });
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::CommitmentMismatch });
    assert!(guest.keys().is_none());
    // The host sees it too: the guest confirmed another transcript than the host's.
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert!(host.keys().is_none());
    // And the codes differ, which people see.
    let host_code = host.security_code().expect("the host still computes a code to compare");
    let guest_code = guest.security_code().expect("the guest still computes a code to compare");
    assert_ne!(host_code, guest_code);
}

#[test]
fn swapping_only_the_guest_key_warns_both_before_any_media() {
    // The relay passes the host's real key (the commitment holds) but fakes the guest's, to
    // read what the host sends. The confirmations give it away before a key is handed out.
    let mut rng = TestRng::new("mallory-2");
    let fake = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    let Call { mut host, mut guest, .. } =
        call(true, true, Policy::Allowed, |from, hello| match (from, hello) {
            (Role::Guest, Signal::Hello(Hello { v, e2ee, .. })) => {
                Signal::Hello(Hello { v, e2ee, public_key: fake.clone() })
            }
            (_, other) => other,
        });
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert!(host.take_keys().is_none() && guest.take_keys().is_none());
    assert_ne!(host.security_code(), guest.security_code());
}

#[test]
fn a_relay_that_flips_e2ee_off_in_a_hello_is_caught() {
    // A downgrade: the relay tells the host that the guest has E2EE off. The host would show
    // "the other person has it off" and send media readable at the relay; instead both warn.
    let Call { host, guest, .. } = call(true, true, Policy::Allowed, |from, signal| match signal {
        Signal::Hello(Hello { v, public_key, .. }) if from == Role::Guest => {
            Signal::Hello(Hello { v, e2ee: false, public_key })
        }
        other => other,
    });
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert!(host.keys().is_none() && guest.keys().is_none());
}

#[test]
fn a_relay_that_replaces_a_dtls_certificate_is_caught_even_without_e2ee() {
    // With E2EE off, DTLS is all there is: a relay that puts its own certificate in the offer
    // (to terminate DTLS itself) changes the guest's transcript, and the confirmations differ.
    let Call { host, guest, .. } =
        call(false, false, Policy::Allowed, |from, signal| match signal {
            Signal::Offer { .. } if from == Role::Host => Signal::Offer { sdp: sdp("0F") },
            other => other,
        });
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
}

#[test]
fn no_confirmation_no_lock_and_a_forged_one_warns() {
    let mut rng = TestRng::new("forged");
    let call_id = new_call_id(&mut rng);
    let mut host = lone_host(&mut rng, call_id);
    // The guest holds another link's secret (or the relay made one up).
    let mut guest = Session::new(
        config(Role::Guest, call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
        LinkSecret::generate(&mut rng),
    );
    guest.set_link_commitment(host.link_commitment());
    guest.peer_hello(&host.hello()).unwrap();
    host.peer_hello(&guest.hello()).unwrap();
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    // Everything but the confirmation: the relay dropping it cannot bring a lock.
    assert_eq!(host.state(), ShieldState::Connecting);
    assert!(host.take_keys().is_none());
    assert!(host.peer_confirm(&Confirm { mac: "AAAA".into(), fp: None }).is_err());
    assert_eq!(host.state(), ShieldState::Connecting, "a malformed confirmation changes nothing");
    host.peer_confirm(&guest.confirm().unwrap()).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
}

/// Host and guest with the same link, their E2EE settings as given, after the hellos.
fn after_hellos(seed: &str, host_e2ee: bool, guest_e2ee: bool) -> (Session, Session, LinkSecret) {
    let mut rng = TestRng::new(seed);
    let call_id = new_call_id(&mut rng);
    let secret = LinkSecret::generate(&mut rng);
    let mut host = Session::new(
        config(Role::Host, call_id, host_e2ee, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
        secret.clone(),
    );
    let mut guest = Session::new(
        config(Role::Guest, call_id, guest_e2ee, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
        secret.clone(),
    );
    guest.set_link_commitment(host.link_commitment());
    guest.peer_hello(&host.hello()).unwrap();
    host.peer_hello(&guest.hello()).unwrap();
    (host, guest, secret)
}

/// Both with E2EE on, through the offer; the guest has made its answer, which has not reached
/// the host yet.
fn answer_on_its_way(seed: &str) -> (Session, Session, LinkSecret) {
    let (mut host, mut guest, secret) = after_hellos(seed, true, true);
    host.local_sdp(&sdp("AA")).unwrap();
    guest.remote_sdp(&sdp("AA")).unwrap();
    guest.local_sdp(&sdp("BB")).unwrap();
    (host, guest, secret)
}

#[test]
fn a_confirmation_that_arrives_early_is_checked_when_the_transcript_is_complete() {
    let (mut host, mut guest, _) = answer_on_its_way("early");
    // The guest's confirmation overtakes its answer, without naming its certificate (as one
    // of version 2 did): the host keeps it until the answer completes the transcript.
    let mut confirm = guest.confirm().unwrap();
    confirm.fp = None;
    host.peer_confirm(&confirm).unwrap();
    assert_eq!(host.state(), ShieldState::Connecting);
    host.remote_sdp(&sdp("BB")).unwrap();
    guest.peer_confirm(&host.confirm().unwrap()).unwrap();
    let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
    assert_eq!(guest.state(), ShieldState::Locked { code });
}

/// The digest `sdp(fill)` names, as `getFingerprints` gives it.
fn digest(fill: &str) -> String {
    vec![fill; 32].join(":")
}

/// Both with E2EE on; the guest made its certificate ahead (`BB`) and has the host's offer
/// (`AA`), its answer not made yet (change 52).
fn offer_in_with_certificate_ahead(seed: &str) -> (Session, Session) {
    let (mut host, mut guest, _) = after_hellos(seed, true, true);
    guest.local_certificate("sha-256", &digest("BB")).unwrap();
    assert!(guest.confirm().is_none(), "no transcript before the offer");
    host.local_sdp(&sdp("AA")).unwrap();
    guest.remote_sdp(&sdp("AA")).unwrap();
    (host, guest)
}

#[test]
fn a_guest_with_its_certificate_made_ahead_confirms_before_answering_and_both_lock() {
    let (mut host, mut guest) = offer_in_with_certificate_ahead("ahead");
    let confirm = guest.confirm().expect("the transcript is complete before the answer");
    assert_eq!(confirm.fp, Some(shieldcall_protocol::base64url::encode(&[0xBB; 32])));
    host.peer_confirm(&confirm).unwrap();
    let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
    assert!(host.confirm().unwrap().fp.is_none(), "the host's certificate is in its offer");
    guest.peer_confirm(&host.confirm().unwrap()).unwrap();
    assert_eq!(guest.state(), ShieldState::Locked { code });
    // The answer then names the same certificate on both sides: nothing changes.
    guest.local_sdp(&sdp("BB")).unwrap();
    host.remote_sdp(&sdp("BB")).unwrap();
    assert_eq!(host.state(), ShieldState::Locked { code });
    assert_eq!(guest.state(), ShieldState::Locked { code });
    let (hk, gk) = (host.keys().unwrap(), guest.keys().unwrap());
    assert_eq!((&hk.send, &hk.receive), (&gk.receive, &gk.send));

    // The same call with the certificate learnt from the answer (version 2's order) agrees on
    // the same code: the transcript did not change, only when it is complete.
    let (mut host2, mut guest2, _) = answer_on_its_way("ahead");
    host2.remote_sdp(&sdp("BB")).unwrap();
    exchange_confirmations(&mut host2, &mut guest2, &honest);
    assert_eq!(host2.state(), ShieldState::Locked { code });
}

#[test]
fn an_answer_naming_another_certificate_than_the_confirmed_one_is_refused_and_red() {
    for answer in [sdp("0F"), with_extra_fingerprint(&sdp("BB"))] {
        let (mut host, mut guest) = offer_in_with_certificate_ahead("swapped answer");
        host.peer_confirm(&guest.confirm().unwrap()).unwrap();
        guest.peer_confirm(&host.poll_transmit().unwrap()).unwrap();
        assert!(matches!(host.state(), ShieldState::Locked { .. }));
        assert!(matches!(guest.state(), ShieldState::Locked { .. }));
        // A relay puts its own certificate in the answer, to end DTLS itself.
        assert!(host.remote_sdp(&answer).is_err(), "never given to the browser");
        assert!(matches!(host.state(), ShieldState::Warning { .. }));
        assert!(host.keys().is_none() && host.take_keys().is_none(), "keys withdrawn");
        // The host takes its confirmation back: the guest, locked on it, turns red too.
        let withdrawn = host.poll_transmit().expect("confirms again");
        guest.peer_confirm(&withdrawn).unwrap();
        let mismatch = ShieldState::Warning { reason: WarningReason::ConfirmationMismatch };
        assert_eq!(guest.state(), mismatch);
        assert!(guest.keys().is_none());
    }
    assert_eq!(
        {
            let (mut host, guest) = offer_in_with_certificate_ahead("swapped answer");
            host.peer_confirm(&guest.confirm().unwrap()).unwrap();
            host.remote_sdp(&sdp("0F"))
        },
        Err(session::SessionError::FingerprintChanged)
    );
    // A browser that answered with another certificate than the one made ahead: not sent.
    let (_, mut guest) = offer_in_with_certificate_ahead("browser ignored it");
    assert_eq!(guest.local_sdp(&sdp("0E")), Err(session::SessionError::FingerprintChanged));
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::BadFingerprint });
}

#[test]
fn a_relay_that_rewrites_the_certificate_in_a_confirmation_gains_nothing() {
    let forged_fp = Some(shieldcall_protocol::base64url::encode(&[0x0F; 32]));
    // Only in the confirmation: no lock on it; the answer's certificate then confirms.
    let (mut host, guest) = offer_in_with_certificate_ahead("rewritten fp");
    let mut confirm = guest.confirm().unwrap();
    confirm.fp = forged_fp.clone();
    host.peer_confirm(&confirm).unwrap();
    assert_eq!(host.state(), ShieldState::Connecting, "the MAC is not over that certificate");
    host.remote_sdp(&sdp("BB")).unwrap();
    assert!(matches!(host.state(), ShieldState::Locked { .. }));

    // In the confirmation and the answer alike: red as soon as the answer is in.
    let (mut host, guest) = offer_in_with_certificate_ahead("rewritten fp and answer");
    let mut confirm = guest.confirm().unwrap();
    confirm.fp = forged_fp;
    host.peer_confirm(&confirm).unwrap();
    assert_eq!(host.state(), ShieldState::Connecting);
    host.remote_sdp(&sdp("0F")).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });

    // Not a digest at all: refused, nothing kept.
    let (mut host, guest) = offer_in_with_certificate_ahead("malformed fp");
    let mut confirm = guest.confirm().unwrap();
    confirm.fp = Some("not a digest".into());
    assert!(host.peer_confirm(&confirm).is_err());
    host.remote_sdp(&sdp("BB")).unwrap();
    assert_eq!(host.state(), ShieldState::Connecting);
}

#[test]
fn an_early_confirmation_for_someone_else_is_dropped_without_a_warning() {
    let (mut host, mut guest, secret) = answer_on_its_way("stale");
    // A late one for a guest who was here before and reloaded, arriving before this guest's
    // answer: it does not match, and it is not held against this guest.
    let earlier = keys::TranscriptHash([9; 32]);
    let from_earlier_guest = keys::Confirmation::new(&secret, ConfirmFrom::Guest, &earlier);
    host.peer_confirm(&Confirm { mac: from_earlier_guest.to_base64url(), fp: None }).unwrap();
    host.remote_sdp(&sdp("BB")).unwrap();
    assert_eq!(host.state(), ShieldState::Connecting, "no lock from it, and no warning");
    assert!(!host.confirmed());
    // This guest's own confirmation then locks.
    host.peer_confirm(&guest.confirm().unwrap()).unwrap();
    guest.peer_confirm(&host.confirm().unwrap()).unwrap();
    let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
    assert_eq!(guest.state(), ShieldState::Locked { code });
}

#[test]
fn transport_only_waits_for_the_confirmation_too() {
    // The shield may say "you turned it off" at once, but the media waits for the proof that
    // nobody replaced a DTLS certificate (the app passes frames only when `confirmed`).
    let (mut host, mut guest, _) = after_hellos("transport", false, true);
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff });
    assert_eq!(guest.state(), ShieldState::Connecting, "not yet 'the other person has it off'");
    assert!(!host.confirmed() && !guest.confirmed(), "the relay dropped the confirmations");
    exchange_confirmations(&mut host, &mut guest, &honest);
    assert!(host.confirmed() && guest.confirmed());
    assert_eq!(guest.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
}

#[test]
fn a_forged_confirmation_after_the_lock_turns_the_shield_red() {
    // Someone on the path can always stop a call; this way it shows, and keys are withdrawn.
    let Call { mut host, .. } = call(true, true, Policy::Allowed, honest);
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    let forged = keys::Confirmation::new(
        &LinkSecret::from_bytes([0; 16]),
        ConfirmFrom::Guest,
        &keys::TranscriptHash([0; 32]),
    );
    host.peer_confirm(&Confirm { mac: forged.to_base64url(), fp: None }).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert!(host.take_keys().is_none());
}

#[test]
fn a_peer_with_e2ee_off_unlocks_both() {
    let Call { host, guest, .. } = call(true, false, Policy::Allowed, honest);
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
    assert_eq!(guest.state(), ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff });
    assert!(host.keys().is_none() && guest.keys().is_none());

    let Call { host, guest, .. } = call(false, true, Policy::Allowed, honest);
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::YouTurnedOff });
    assert_eq!(guest.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
}

#[test]
fn organisation_policy_unlocks_with_its_reason() {
    let Call { host, guest, .. } = call(true, true, Policy::Disabled, honest);
    assert_eq!(
        guest.state(),
        ShieldState::Unlocked { reason: UnlockedReason::OrganisationDisabled }
    );
    assert_eq!(host.state(), ShieldState::Unlocked { reason: UnlockedReason::PeerTurnedOff });
    assert!(guest.keys().is_none());
    assert!(!guest.hello().e2ee, "a disabled side must not offer E2EE");
}

#[test]
fn bad_peer_input_warns() {
    let mut rng = TestRng::new("bad");
    let call_id = new_call_id(&mut rng);
    let v = PROTOCOL_VERSION;
    let mut host = lone_host(&mut rng, call_id);
    let not_a_point = Hello { v, e2ee: true, public_key: "BAAA".into() };
    assert!(host.peer_hello(&not_a_point).is_err());
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::InvalidPeerKey });

    let mut host = lone_host(&mut rng, call_id);
    let first = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    let second = EphemeralSecret::generate(&mut rng).public_key().to_base64url();
    host.peer_hello(&Hello { v, e2ee: true, public_key: first.clone() }).expect("valid");
    host.peer_hello(&Hello { v, e2ee: true, public_key: first.clone() }).expect("repeat is fine");
    assert_eq!(host.state(), ShieldState::Connecting);
    host.peer_hello(&Hello { v, e2ee: true, public_key: second }).expect("valid");
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    assert!(host.local_sdp("v=0\r\n").is_err());

    // A version 1 peer knows nothing of confirmations: refused, not half-trusted.
    let mut host = lone_host(&mut rng, call_id);
    host.peer_hello(&Hello { v: 1, e2ee: true, public_key: first }).expect("parses");
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::VersionMismatch });
}

#[test]
fn call_ids_come_from_the_given_rng() {
    let a = new_call_id(&mut TestRng::new("x"));
    let b = new_call_id(&mut TestRng::new("x"));
    let c = new_call_id(&mut TestRng::new("y"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.to_string().len(), 22);
    assert_eq!(CallId::parse(&a.to_string()), Ok(a));
}

#[test]
fn a_guest_who_reloads_gets_a_fresh_agreement_with_the_same_host_key() {
    let Call { mut host, guest, link } = call(true, true, Policy::Allowed, honest);
    let ShieldState::Locked { code: first } = host.state() else { panic!("{:?}", host.state()) };
    let first_keys = host.keys().expect("locked").clone();
    drop(guest);

    // The guest reloads: a new page, a new key; the host keeps its own (the link commits to it).
    host.restart();
    assert_eq!(host.state(), ShieldState::Connecting);
    assert!(host.keys().is_none(), "no keys from the old peer survive");
    let mut rng = TestRng::new("reloaded guest");
    let mut guest = Session::new(
        config(Role::Guest, link.call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
        link.secret,
    );
    guest.set_link_commitment(link.commitment);
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
    let Call { mut host, mut guest, .. } = call(true, true, Policy::Allowed, honest);
    let ShieldState::Locked { code: first } = host.state() else { panic!("{:?}", host.state()) };
    let old_confirmation = guest.confirm().expect("the first connection's confirmation");

    // A new connection: new DTLS certificates, so new fingerprints, so new keys.
    host.restart_connection();
    guest.restart_connection();
    exchange_sdps(&mut host, &mut guest, "EE", "FF");
    let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
    assert_eq!(guest.state(), ShieldState::Locked { code });
    assert_ne!(code, first);
    // The first connection's confirmation, arriving late, is no attack: ignored.
    host.peer_confirm(&old_confirmation).unwrap();
    assert_eq!(host.state(), ShieldState::Locked { code });

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
    let Call { mut host, guest, .. } = call(true, true, Policy::Allowed, honest);
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    let handed = host.take_keys().expect("locked: keys to hand to the worker");
    assert!(host.take_keys().is_none(), "handed over once, no copy kept");
    assert!(host.keys().is_none());

    // Someone on the path replays the guest's hello with E2EE off, then on again.
    let Hello { v, public_key, .. } = guest.hello();
    let flipped = Hello { v, e2ee: false, public_key: public_key.clone() };
    host.peer_hello(&flipped).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    host.peer_hello(&Hello { v, e2ee: true, public_key }).unwrap();
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
    assert!(host.take_keys().is_none());
    assert!(host.knows_peer(&guest.hello()));
    drop(handed);
}

#[test]
fn without_the_link_secret_an_ecdh_partner_cannot_derive_the_keys() {
    // A relay that swapped in its own key shares Z with the party and knows TH, but not S.
    let mut rng = TestRng::new("ecdh partner");
    let party = EphemeralSecret::generate(&mut rng);
    let relay = EphemeralSecret::generate(&mut rng);
    let z_party = party.diffie_hellman(relay.public_key());
    let z_relay = relay.diffie_hellman(party.public_key());
    assert_eq!(z_party.expose(), z_relay.expose());
    let th = keys::TranscriptHash([7; 32]);
    let secret = LinkSecret::generate(&mut rng);
    let guessed = LinkSecret::from_bytes([0; 16]);
    let suite = CipherSuite::default();
    let party_keys = keys::media_keys(suite, &z_party, &secret, &th);
    assert_ne!(party_keys, keys::media_keys(suite, &z_relay, &guessed, &th));
    assert_eq!(party_keys, keys::media_keys(suite, &z_relay, &secret, &th));
}

/// What a relay that wants to end DTLS itself adds after the real fingerprint: a digest of its
/// own certificate under another hash function, which Chromium keeps (the last line of a media
/// section) and Firefox accepts (any listed digest).
fn with_extra_fingerprint(sdp: &str) -> String {
    let relays = vec!["5A"; 48].join(":");
    sdp.replace("a=setup:", &format!("a=fingerprint:sha-384 {relays}\r\na=setup:"))
}

#[test]
fn a_second_fingerprint_added_on_the_way_turns_both_shields_red_never_locked() {
    for (host_e2ee, guest_e2ee) in [(true, true), (true, false), (false, true)] {
        let (mut host, mut guest, _) = after_hellos("extra-fp", host_e2ee, guest_e2ee);
        host.local_sdp(&sdp("AA")).unwrap();
        // The guest refuses the offer as it arrives: it names two certificates.
        assert!(guest.remote_sdp(&with_extra_fingerprint(&sdp("AA"))).is_err());
        assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::ExtraFingerprint });
        assert!(guest.confirm().is_none(), "nothing to confirm: the offer was refused");
        // The host refuses the answer the same way.
        guest.local_sdp(&sdp("BB")).unwrap();
        assert!(host.remote_sdp(&with_extra_fingerprint(&sdp("BB"))).is_err());
        assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ExtraFingerprint });
        assert!(host.keys().is_none() && guest.keys().is_none());
        assert!(!host.confirmed() && !guest.confirmed());
    }
}

#[test]
fn a_refused_offer_reaches_the_host_as_a_confirmation_timeout() {
    // Only the offer was changed: the host's own transcript is complete, but the guest refused
    // the offer and never confirms. The host must not wait for ever.
    let (mut host, mut guest, _) = after_hellos("refused-offer", true, true);
    host.local_sdp(&sdp("AA")).unwrap();
    assert!(guest.remote_sdp(&with_extra_fingerprint(&sdp("AA"))).is_err());
    host.remote_sdp(&sdp("BB")).unwrap();
    host.handle_timeout(1_000);
    assert_wait_ends_in_warning(&mut host, 1_000);
}

/// `side`, waiting for a confirmation since `start`, still waits 1 ms before the deadline and
/// shows the warning at it.
fn assert_wait_ends_in_warning(side: &mut Session, start: u64) {
    let before = side.state();
    side.handle_timeout(start + session::CONFIRMATION_TIMEOUT_MS - 1);
    assert_eq!(side.state(), before, "still waiting");
    side.handle_timeout(start + session::CONFIRMATION_TIMEOUT_MS);
    assert_eq!(side.state(), ShieldState::Warning { reason: WarningReason::ConfirmationTimeout });
}

#[test]
fn dropped_confirmations_end_in_the_warning_not_in_connecting_for_ever() {
    for (host_e2ee, guest_e2ee) in [(true, true), (true, false)] {
        let (mut host, mut guest, _) = after_hellos("dropped", host_e2ee, guest_e2ee);
        exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
        // The relay drops both confirmations.
        let before = [host.state(), guest.state()];
        for t in [0, 5_000, 11_999] {
            host.handle_timeout(t);
            guest.handle_timeout(t);
        }
        assert_eq!([host.state(), guest.state()], before, "still waiting within the time");
        host.handle_timeout(12_000);
        guest.handle_timeout(12_000);
        for side in [&host, &guest] {
            assert_eq!(
                side.state(),
                ShieldState::Warning { reason: WarningReason::ConfirmationTimeout },
                "e2ee {host_e2ee}/{guest_e2ee}"
            );
            assert!(!side.confirmed(), "no media, not even transport-only");
        }
        assert!(host.keys().is_none() && guest.keys().is_none());
        // The confirmations come after all (a relay that held them back, a network that came
        // back): they prove the agreement, so the wait's red shield goes (change 56).
        let (h, g) = (host.confirm().unwrap(), guest.confirm().unwrap());
        host.peer_confirm(&g).unwrap();
        guest.peer_confirm(&h).unwrap();
        assert!(host.confirmed() && guest.confirmed());
        assert_eq!(host.warned_in_call(), None, "a wait that ran out proved nothing");
        if guest_e2ee {
            let ShieldState::Locked { code } = host.state() else { panic!("{:?}", host.state()) };
            assert_eq!(guest.state(), ShieldState::Locked { code });
            let (hk, gk) = (host.keys().expect("keys made"), guest.keys().expect("keys made"));
            assert_eq!((&hk.send, &hk.receive), (&gk.receive, &gk.send));
        } else {
            assert!(matches!(host.state(), ShieldState::Unlocked { .. }), "{:?}", host.state());
        }
    }
}

fn warning_of(side: &Session) -> Option<WarningReason> {
    match side.state() {
        ShieldState::Warning { reason } => Some(reason),
        _ => None,
    }
}

#[test]
fn under_evidence_an_honest_hang_up_still_verifies_and_a_forged_one_still_does_not() {
    let (mut host, mut guest, _) = after_hellos("evidence bye", true, true);
    exchange_sdps(&mut host, &mut guest, "AA", "BB");
    host.peer_confirm(&Confirm { mac: base64url::encode(&[7; 32]), fp: None }).unwrap();
    assert_eq!(warning_of(&host), Some(WarningReason::ConfirmationMismatch));
    assert!(!host.peer_hung_up(None));
    assert!(host.peer_hung_up(guest.hang_up().as_ref()));
}

#[test]
fn a_late_confirmation_lifts_only_the_timeout_never_evidence_seen_after_it() {
    let (mut host, mut guest, _) = after_hellos("evidence", true, true);
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    host.handle_timeout(0);
    host.handle_timeout(session::CONFIRMATION_TIMEOUT_MS);
    assert_eq!(warning_of(&host), Some(WarningReason::ConfirmationTimeout));
    // Evidence after the timeout takes its place: a forged confirmation.
    let forged = keys::Confirmation::new(
        &LinkSecret::from_bytes([0; 16]),
        ConfirmFrom::Guest,
        &keys::TranscriptHash([0; 32]),
    );
    host.peer_confirm(&Confirm { mac: forged.to_base64url(), fp: None }).unwrap();
    assert_eq!(warning_of(&host), Some(WarningReason::ConfirmationMismatch));
    host.peer_confirm(&guest.confirm().unwrap()).unwrap();
    assert_eq!(warning_of(&host), Some(WarningReason::ConfirmationMismatch), "for good");
    assert!(host.keys().is_none());
    assert_eq!(host.warned_in_call(), Some(WarningReason::ConfirmationMismatch));
}

#[test]
fn a_side_that_saw_evidence_never_confirms_so_the_peer_turns_red_too() {
    let (mut host, mut guest, _) = after_hellos("never again", true, true);
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    // The guest saw evidence (its media kept failing to decrypt, say) on a locked call.
    host.peer_confirm(&guest.confirm().unwrap()).unwrap();
    guest.peer_confirm(&host.confirm().unwrap()).unwrap();
    guest.report_decrypt_failures();
    assert_eq!(warning_of(&guest), Some(WarningReason::DecryptFailures));
    // A new connection: the host, which saw nothing, would lock on a valid confirmation.
    host.restart_connection();
    guest.restart_connection();
    exchange_sdps_via(&mut host, &mut guest, "CC", "DD", &honest);
    host.peer_confirm(&guest.confirm().unwrap()).unwrap();
    assert_eq!(warning_of(&host), Some(WarningReason::ConfirmationMismatch));
    assert!(host.keys().is_none());
}

#[test]
fn the_wait_for_a_confirmation_is_not_restarted_by_new_connections() {
    let (mut host, mut guest, _) = after_hellos("restarts", true, true);
    host.handle_timeout(0);
    // The relay drops the confirmations and makes the media connection fail, again and again:
    // each new connection is a new transcript, but the wait goes on from the first hello.
    for (i, t) in [(0u8, 3_000), (1, 6_000), (2, 9_000)] {
        host.restart_connection();
        guest.restart_connection();
        let (a, b) = (format!("{:02X}", 0x10 + i), format!("{:02X}", 0x20 + i));
        exchange_sdps_via(&mut host, &mut guest, &a, &b, &honest);
        host.handle_timeout(t);
    }
    assert_eq!(host.state(), ShieldState::Connecting);
    host.handle_timeout(12_000);
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationTimeout });
}

#[test]
fn a_confirmed_call_gets_a_fresh_wait_for_each_new_connection() {
    let (mut host, mut guest, _) = after_hellos("fresh-wait", true, true);
    host.handle_timeout(0);
    exchange_sdps(&mut host, &mut guest, "AA", "BB");
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    // Locked for a long time (no tick while confirmed is needed), then a network change.
    host.restart_connection();
    guest.restart_connection();
    host.handle_timeout(60_000);
    exchange_sdps(&mut host, &mut guest, "CC", "DD");
    host.handle_timeout(60_000 + session::CONFIRMATION_TIMEOUT_MS);
    assert!(matches!(host.state(), ShieldState::Locked { .. }), "{:?}", host.state());
}

#[test]
fn a_warning_is_remembered_after_the_peer_leaves() {
    let (mut host, mut guest, _) = after_hellos("remember", true, true);
    assert_eq!(host.warned_in_call(), None);
    host.local_sdp(&sdp("AA")).unwrap();
    assert!(host.remote_sdp(&with_extra_fingerprint(&sdp("BB"))).is_err());
    // The peer leaves (or the relay says so): a new agreement may start with whoever comes...
    host.restart();
    assert_eq!(host.state(), ShieldState::Connecting);
    // ...but this call has seen an attack, and says so until hang-up.
    assert_eq!(host.warned_in_call(), Some(WarningReason::ExtraFingerprint));
    guest.restart();
    host.peer_hello(&guest.hello()).unwrap();
    guest.peer_hello(&host.hello()).unwrap();
    exchange_sdps(&mut host, &mut guest, "CC", "DD");
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    assert_eq!(host.warned_in_call(), Some(WarningReason::ExtraFingerprint));
}

#[test]
fn the_description_the_browser_applied_must_name_the_bound_certificate_only() {
    let fp = |fill: &str| vec![fill; 32].join(":");
    let (mut host, mut guest, _) = after_hellos("applied", true, true);
    // Before the peer's description is in there is nothing to compare with (a connection
    // being replaced): nothing changes.
    assert!(host.remote_description_applied(&sdp("EE")));
    assert_eq!(host.state(), ShieldState::Connecting);
    exchange_sdps(&mut host, &mut guest, "AA", "BB");
    // As browsers write it back: the fingerprint in each media section, in upper or lower case.
    let rewritten = format!(
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:SHA-256 {}\r\n\
         m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:sha-256 {}\r\n",
        fp("bb"),
        fp("BB")
    );
    assert!(host.remote_description_applied(&rewritten));
    assert!(guest.remote_description_applied(&sdp("AA")));
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    assert!(matches!(guest.state(), ShieldState::Locked { .. }));
    // Another certificate, a second one beside it (under SHA-256 or another hash), none at
    // all, or a line that is not plain (a candidate the browser took with a tab in it): the
    // browser holds what the keys are not bound to, or what this parser cannot vouch for.
    let extra = format!("{}a=fingerprint:sha-256 {}\r\n", sdp("BB"), fp("BC"));
    let sha1 = format!("{}a=fingerprint:sha-1 {}\r\n", sdp("BB"), vec!["BB"; 20].join(":"));
    let unplain = format!("{}a=candidate:1 1 udp 1 10.0.0.1 9\ttyp host\r\n", sdp("BB"));
    for seen in [sdp("BC"), extra, sha1, unplain, "v=0\r\n".to_string()] {
        let (mut host, mut guest, _) = after_hellos("applied", true, true);
        exchange_sdps(&mut host, &mut guest, "AA", "BB");
        assert!(!host.remote_description_applied(&seen));
        assert_eq!(
            host.state(),
            ShieldState::Warning { reason: WarningReason::CertificateMismatch }
        );
        assert!(host.keys().is_none());
    }
}

#[test]
fn the_certificate_the_browser_reports_must_be_the_bound_one() {
    let fp = |fill: &str| vec![fill; 32].join(":");
    let (mut host, mut guest, _) = after_hellos("certificate", true, true);
    // Before the remote description is in, there is nothing to compare with.
    host.remote_certificate("sha-256", &fp("EE"));
    assert_eq!(host.state(), ShieldState::Connecting);
    exchange_sdps(&mut host, &mut guest, "AA", "BB");
    // The guest's certificate, as Chromium's getStats reports it: equal, in any case.
    host.remote_certificate("sha-256", &fp("bb"));
    guest.remote_certificate("sha-256", &fp("AA"));
    assert!(matches!(host.state(), ShieldState::Locked { .. }));
    assert!(matches!(guest.state(), ShieldState::Locked { .. }));
    // Another certificate, or one under another hash, or garbage: DTLS ended elsewhere.
    for (algorithm, seen) in
        [("sha-256", fp("BC")), ("sha-384", vec!["BB"; 48].join(":")), ("sha-256", "junk".into())]
    {
        let (mut host, mut guest, _) = after_hellos("certificate", true, true);
        exchange_sdps(&mut host, &mut guest, "AA", "BB");
        host.remote_certificate(algorithm, &seen);
        assert_eq!(
            host.state(),
            ShieldState::Warning { reason: WarningReason::CertificateMismatch }
        );
        assert!(host.keys().is_none());
    }
}

#[test]
fn half_way_through_the_wait_each_side_asks_once_more() {
    let (mut host, mut guest, _) = after_hellos("reask", true, true);
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    // The host's confirmation was lost with a relay socket.
    let asks = |session: &mut Session, now| {
        session.handle_timeout(now);
        std::iter::from_fn(|| session.poll_event()).filter(|e| *e == SessionEvent::AskAgain).count()
    };
    assert_eq!(asks(&mut guest, 0), 0);
    assert_eq!(asks(&mut guest, 5_999), 0);
    assert_eq!(asks(&mut guest, 6_000), 1, "ask again half-way");
    assert_eq!(asks(&mut guest, 7_000), 0, "once");
    // Asked again, the host repeats its confirmation in time: locked, no warning.
    guest.peer_confirm(&host.confirm().unwrap()).unwrap();
    guest.handle_timeout(20_000);
    assert!(matches!(guest.state(), ShieldState::Locked { .. }), "{:?}", guest.state());
    assert!(
        matches!(guest.poll_event(), Some(SessionEvent::ShieldChanged(ShieldState::Locked { .. }))),
        "the lock is reported once"
    );
    assert_eq!(guest.poll_event(), None);
}

#[test]
fn time_without_a_relay_socket_is_not_held_against_the_peer() {
    let (mut host, mut guest, _) = after_hellos("relay-gone", true, true);
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    guest.handle_timeout(0);
    // The guest's relay socket was away for 11 s; it rejoins, and the wait starts again.
    guest.relay_rejoined();
    guest.handle_timeout(11_000);
    assert_eq!(guest.state(), ShieldState::Connecting);
    assert_wait_ends_in_warning(&mut guest, 11_000);
}

#[test]
fn a_peer_the_relay_announced_must_say_hello_and_confirm_in_time() {
    // The relay says someone joined but drops their hello (and may offer a connection of its
    // own): the wait runs from the announcement, with E2EE on or off.
    for e2ee in [true, false] {
        let mut rng = TestRng::new("announced");
        let call_id = new_call_id(&mut rng);
        let mut guest = Session::new(
            config(Role::Guest, call_id, e2ee, Policy::Allowed),
            EphemeralSecret::generate(&mut rng),
            LinkSecret::generate(&mut rng),
        );
        let before = guest.state();
        guest.handle_timeout(0);
        guest.handle_timeout(60_000);
        assert_eq!(guest.state(), before, "alone, nobody to wait for");
        guest.expect_peer();
        guest.handle_timeout(60_000);
        assert_wait_ends_in_warning(&mut guest, 60_000);
    }
}

#[test]
fn a_peer_who_left_is_waited_for_no_longer() {
    let (mut host, _guest, _) = after_hellos("left", true, true);
    host.handle_timeout(0);
    host.restart();
    host.handle_timeout(60_000);
    assert_eq!(host.state(), ShieldState::Connecting, "alone again: no warning");
}

#[test]
fn the_confirmation_is_handed_out_once_per_agreement_and_again_when_repeated() {
    let (mut host, mut guest, _) = after_hellos("transmit", true, true);
    assert_eq!(host.poll_transmit(), None, "nothing to confirm before the descriptions");
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    let first = host.poll_transmit().expect("the transcript is complete");
    assert_eq!(Some(&first), host.confirm().as_ref());
    assert_eq!(host.poll_transmit(), None, "once");
    host.repeat_confirmation();
    assert_eq!(host.poll_transmit(), Some(first.clone()), "again when asked");
    // A new connection is a new agreement, with its own confirmation.
    host.restart_connection();
    guest.restart_connection();
    assert_eq!(host.poll_transmit(), None);
    exchange_sdps_via(&mut host, &mut guest, "CC", "DD", &honest);
    let second = host.poll_transmit().expect("the new transcript is complete");
    assert_ne!(second, first);
}

#[test]
fn a_host_that_moved_a_transport_only_call_may_have_another_key_but_not_under_e2ee() {
    let moved_host = |guest_e2ee: bool, told: bool| {
        let Call { guest, link, .. } = call(false, guest_e2ee, Policy::Allowed, honest);
        let mut guest = guest;
        assert!(guest.confirmed());
        // The host's other device: a key of its own, the link secret from the move link.
        let mut rng = TestRng::new("the host's phone");
        let mut phone = Session::new(
            config(Role::Host, link.call_id, false, Policy::Allowed),
            EphemeralSecret::generate(&mut rng),
            link.secret,
        );
        if told {
            guest.peer_moved(0);
        } else {
            guest.restart();
        }
        guest.peer_hello(&phone.hello()).expect("valid hello");
        phone.peer_hello(&guest.hello()).expect("valid hello");
        exchange_sdps(&mut phone, &mut guest, "CC", "DD");
        (phone, guest)
    };
    // Told of the move, a transport-only call goes on, confirmed on both sides.
    for guest_e2ee in [false, true] {
        let (phone, guest) = moved_host(guest_e2ee, true);
        assert!(guest.confirmed() && phone.confirmed(), "guest e2ee {guest_e2ee}");
        assert!(matches!(guest.state(), ShieldState::Unlocked { .. }), "{:?}", guest.state());
    }
    // Without the relay's word, another host key is the attack it always was.
    let (_, guest) = moved_host(false, false);
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::CommitmentMismatch });

    // Under E2EE a move the host did not announce is the host leaving, and another host key
    // the attack it always was.
    let Call { mut guest, link, .. } = call(true, true, Policy::Allowed, honest);
    let mut rng = TestRng::new("the host's phone, e2ee");
    let mut phone = Session::new(
        config(Role::Host, link.call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
        link.secret,
    );
    guest.peer_moved(0);
    guest.peer_hello(&phone.hello()).expect("valid hello");
    phone.peer_hello(&guest.hello()).expect("valid hello");
    exchange_sdps(&mut phone, &mut guest, "CC", "DD");
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::CommitmentMismatch });
    assert!(guest.keys().is_none());
}

/// A device that opened a re-keyed move link for `role`'s place: a key of its own, the move's
/// secret in place of the link secret, and (a guest) the link's commitment.
fn device_from_move_link(role: Role, link: &CallLink, secret: LinkSecret, seed: &str) -> Session {
    let mut rng = TestRng::new(seed);
    let mut device = Session::new(
        config(role, link.call_id, true, Policy::Allowed),
        EphemeralSecret::generate(&mut rng),
        secret,
    );
    if role == Role::Guest {
        device.set_link_commitment(link.commitment);
    }
    device
}

/// `mover` announces a move (nonce `n`, 120 s) to `stayer` at `now`: returns the link's secret.
fn announce(mover: &Session, stayer: &mut Session, n: u8, now: u64) -> LinkSecret {
    let (intent, secret) = mover.announce_move([n; 16], 120).expect("locked under E2EE");
    let intent = MoveIntent::from_message(&intent.to_message()).unwrap();
    stayer.peer_move_intent(&intent, now).expect("an intent from the peer");
    secret
}

/// `stayer` hears (at `now`) that `moving`'s place went to `device`, which says hello; the two
/// agree. Returns whether the stayer re-keyed.
fn agree_after_move(moving: Role, stayer: &mut Session, device: &mut Session, now: u64) -> bool {
    let rekeyed = stayer.peer_moved(now);
    assert_eq!(stayer.state(), ShieldState::Connecting);
    device.peer_hello(&stayer.hello()).expect("valid hello");
    stayer.peer_hello(&device.hello()).expect("valid hello");
    match moving {
        Role::Host => exchange_sdps(device, stayer, "CC", "DD"),
        Role::Guest => exchange_sdps(stayer, device, "CC", "DD"),
    }
    rekeyed
}

/// A locked E2EE call whose sides have reported the lock.
fn locked_call() -> Call {
    let mut call = call(true, true, Policy::Allowed, honest);
    assert!(call.host.poll_event().is_some() && call.guest.poll_event().is_some());
    call
}

#[test]
fn a_re_keyed_move_locks_the_new_device_with_a_new_code_on_both_sides() {
    for moving in [Role::Host, Role::Guest] {
        let Call { mut host, mut guest, link } = locked_call();
        let ShieldState::Locked { code: before } = host.state() else { panic!() };
        let (mover, stayer) = match moving {
            Role::Host => (&mut host, &mut guest),
            Role::Guest => (&mut guest, &mut host),
        };
        // A media connection made again meanwhile changes nothing.
        mover.restart_connection();
        let secret = announce(mover, stayer, 1, 0);
        assert_ne!(&secret, &link.secret);

        let mut device = device_from_move_link(moving, &link, secret, "the phone");
        assert!(agree_after_move(moving, stayer, &mut device, 60_000));
        let ShieldState::Locked { code } = device.state() else {
            panic!("{moving:?} moved: device {:?}", device.state())
        };
        assert_eq!(stayer.state(), ShieldState::Locked { code }, "{moving:?} moved");
        assert_ne!(code, before, "a new agreement, a new code to compare");
        let (dk, sk) = (device.keys().expect("locked"), stayer.keys().expect("locked"));
        assert_eq!((&dk.send, &dk.receive), (&sk.receive, &sk.send));
        if moving == Role::Host {
            // The guest now checks the host key against the new device's, for a later reload.
            assert_eq!(stayer.commitment(), Some(device.link_commitment()));
        }
        // The next move out of this call is announced and keyed afresh.
        let _ = (device.poll_event(), stayer.poll_event());
        let next = announce(&device, stayer, 2, 70_000);
        assert_ne!(next, *stayer.link_secret());
    }
}

#[test]
fn no_re_keyed_move_before_a_lock_without_e2ee_or_under_a_warning() {
    let Call { host, .. } = call(false, false, Policy::Allowed, honest);
    assert!(host.confirmed());
    assert!(host.announce_move([1; 16], 120).is_none(), "transport-only: the link secret moves");
    let (host, _, _) = after_hellos("not yet", true, true);
    assert!(host.announce_move([1; 16], 120).is_none(), "not locked yet");
    let Call { mut host, .. } = locked_call();
    host.report_decrypt_failures();
    assert!(host.announce_move([1; 16], 120).is_none(), "red: nothing to move out of");
}

#[test]
fn intents_are_the_peers_own_fresh_and_unaltered() {
    let Call { host, mut guest, .. } = locked_call();
    let (intent, _) = host.announce_move([5; 16], 120).unwrap();
    // Altered on the way (a longer life, another nonce, another MAC): refused.
    for altered in [
        MoveIntent { ttl_secs: 100_000, ..intent },
        MoveIntent { nonce: [6; 16], ..intent },
        MoveIntent { mac: [0; 32], ..intent },
    ] {
        assert_eq!(guest.peer_move_intent(&altered, 0), Err(MoveIntentRefused::BadMac));
    }
    // The guest's own intent reflected back to it is not the host's.
    let (own, _) = guest.announce_move([5; 16], 120).unwrap();
    assert_eq!(guest.peer_move_intent(&own, 0), Err(MoveIntentRefused::BadMac));
    guest.peer_move_intent(&intent, 0).unwrap();
    assert_eq!(guest.peer_move_intent(&intent, 1), Err(MoveIntentRefused::Repeated));
    // Outside a locked call there is nothing to move.
    let Call { host, mut guest, .. } = call(false, false, Policy::Allowed, honest);
    let _ = host;
    assert_eq!(guest.peer_move_intent(&intent, 0), Err(MoveIntentRefused::NotLocked));
}

#[test]
fn a_move_link_works_only_while_its_intent_lives_and_only_once() {
    // Expired: the host showed a link and did not use it. Later the relay says the host moved
    // and lets the link's holder in: the guest takes it as the host leaving, and the holder's
    // key is the attack it always was.
    let Call { host, mut guest, link } = locked_call();
    let secret = announce(&host, &mut guest, 1, 0);
    let mut holder = device_from_move_link(Role::Host, &link, secret.clone(), "link holder");
    assert!(!agree_after_move(Role::Host, &mut guest, &mut holder, 121_000));
    assert!(matches!(guest.state(), ShieldState::Warning { .. }), "{:?}", guest.state());
    assert!(guest.keys().is_none());

    // Used: a second device with the same link after the move.
    let Call { host, mut guest, link } = locked_call();
    let secret = announce(&host, &mut guest, 1, 0);
    let mut phone = device_from_move_link(Role::Host, &link, secret.clone(), "the phone");
    assert!(agree_after_move(Role::Host, &mut guest, &mut phone, 1_000));
    assert!(matches!(guest.state(), ShieldState::Locked { .. }));
    let _ = guest.poll_event();
    let mut laptop = device_from_move_link(Role::Host, &link, secret, "the laptop");
    assert!(!agree_after_move(Role::Host, &mut guest, &mut laptop, 2_000));
    assert!(matches!(guest.state(), ShieldState::Warning { .. }), "{:?}", guest.state());

    // Replaced: only the latest intent lives.
    let Call { host, mut guest, link } = locked_call();
    let first = announce(&host, &mut guest, 1, 0);
    let _second = announce(&host, &mut guest, 2, 0);
    let mut old = device_from_move_link(Role::Host, &link, first, "first link");
    assert!(agree_after_move(Role::Host, &mut guest, &mut old, 1_000));
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
}

#[test]
fn a_hosts_move_link_cannot_stand_for_the_guest() {
    // The host's link, used to pose as the guest to the host: the host holds no intent of the
    // guest's, and the secret is bound to the mover's side anyway.
    let Call { mut host, mut guest, link } = locked_call();
    let secret = announce(&host, &mut guest, 1, 0);
    let mut fake_guest = device_from_move_link(Role::Guest, &link, secret.clone(), "fake guest");
    assert!(!agree_after_move(Role::Guest, &mut host, &mut fake_guest, 1_000));
    assert!(matches!(host.state(), ShieldState::Warning { .. }), "{:?}", host.state());
    assert!(host.keys().is_none());
    // Even with an intent of the guest's live at the host, a host link's secret is another.
    let Call { mut host, mut guest, link } = locked_call();
    let host_secret = announce(&host, &mut guest, 1, 0);
    let _ = announce(&guest, &mut host, 1, 0);
    let mut fake_guest = device_from_move_link(Role::Guest, &link, host_secret, "fake guest");
    assert!(agree_after_move(Role::Guest, &mut host, &mut fake_guest, 1_000));
    assert_eq!(host.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
}

#[test]
fn a_relay_that_forges_a_re_keyed_move_gets_the_red_shield_never_a_lock() {
    // With the host's intent live, the relay says the host moved and plays a host of its own
    // (holding even the call link): it lacks Z, so the move's secret.
    let Call { host, mut guest, link } = locked_call();
    announce(&host, &mut guest, 1, 0);
    let mut forger = device_from_move_link(Role::Host, &link, link.secret.clone(), "relay");
    assert!(agree_after_move(Role::Host, &mut guest, &mut forger, 1_000));
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::ConfirmationMismatch });
    assert!(guest.keys().is_none());

    // A relay that sends its own hello first, then lets the real device's through: the real
    // key after the forged one is a key change.
    let Call { host, mut guest, link } = locked_call();
    let secret = announce(&host, &mut guest, 1, 0);
    let forger = device_from_move_link(Role::Host, &link, link.secret.clone(), "relay");
    let phone = device_from_move_link(Role::Host, &link, secret, "the phone");
    assert!(guest.peer_moved(1_000));
    guest.peer_hello(&forger.hello()).unwrap();
    guest.peer_hello(&phone.hello()).unwrap();
    assert_eq!(guest.state(), ShieldState::Warning { reason: WarningReason::PeerKeyChanged });
}

#[test]
fn a_forged_peer_moved_while_the_peer_is_still_there_is_recovered_from() {
    for announced in [false, true] {
        for stays in [Role::Host, Role::Guest] {
            let Call { mut host, mut guest, .. } = locked_call();
            let (mut stayer, mut peer) = match stays {
                Role::Host => (host, guest),
                Role::Guest => (guest, host),
            };
            if announced {
                announce(&peer, &mut stayer, 1, 0);
            }
            // The relay says the peer moved; the peer, who never did, says hello again (its
            // relay socket came back, or it was asked) with its old key.
            assert_eq!(stayer.peer_moved(1_000), announced);
            stayer.peer_hello(&peer.hello()).unwrap();
            peer.restart_connection();
            (host, guest) = match stays {
                Role::Host => (stayer, peer),
                Role::Guest => (peer, stayer),
            };
            exchange_sdps(&mut host, &mut guest, "EE", "FF");
            let ShieldState::Locked { code } = host.state() else {
                panic!("announced {announced}, {stays:?} stays: {:?}", host.state())
            };
            assert_eq!(guest.state(), ShieldState::Locked { code });
        }
    }
}

#[test]
fn in_a_group_a_guest_takes_another_members_key_for_a_transport_only_agreement_only() {
    for e2ee in [false, true] {
        let mut rng = TestRng::new("group");
        let call_id = new_call_id(&mut rng);
        let secret = LinkSecret::generate(&mut rng);
        let link_host = EphemeralSecret::generate(&mut rng);
        let config = |role| config(role, call_id, e2ee, Policy::Allowed);
        // The newcomer's pair with an earlier member who is not the link's host.
        let mut member =
            Session::new(config(Role::Host), EphemeralSecret::generate(&mut rng), secret.clone());
        let mut newcomer =
            Session::new(config(Role::Guest), EphemeralSecret::generate(&mut rng), secret);
        newcomer.set_link_commitment(link_host.public_key().commitment());
        newcomer.join_group();
        newcomer.peer_hello(&member.hello()).unwrap();
        member.peer_hello(&newcomer.hello()).unwrap();
        exchange_sdps(&mut member, &mut newcomer, "CC", "DD");
        if e2ee {
            let mismatch = ShieldState::Warning { reason: WarningReason::CommitmentMismatch };
            assert_eq!(newcomer.state(), mismatch, "never E2EE with a key the link did not name");
        } else {
            assert!(newcomer.confirmed() && member.confirmed());
            assert!(matches!(newcomer.state(), ShieldState::Unlocked { .. }));
        }
    }
}

#[test]
fn only_the_peers_own_hang_up_ends_a_confirmed_call() {
    for (host_e2ee, guest_e2ee) in [(true, true), (false, true)] {
        let Call { host, guest, .. } = call(host_e2ee, guest_e2ee, Policy::Allowed, honest);
        assert!(host.confirmed() && guest.confirmed());
        let (from_host, from_guest) = (host.hang_up(), guest.hang_up());
        assert!(guest.peer_hung_up(from_host.as_ref()), "the host's own hang-up");
        assert!(host.peer_hung_up(from_guest.as_ref()), "the guest's own hang-up");
        // The relay's word alone: none, zeros, a party's own reflected back, a confirmation in
        // its place, a hang-up of another agreement. (Strings that are no MAC at all are the
        // controller's to read: tests/controller/attacks.rs.)
        let confirm_mac = guest.confirm().expect("a transcript").mac;
        let confirm_mac = Confirmation::from_base64url(&confirm_mac);
        let (mut other_host, mut other_guest, _) = after_hellos("another", host_e2ee, guest_e2ee);
        exchange_sdps(&mut other_host, &mut other_guest, "AA", "BB");
        let other = other_guest.hang_up();
        assert!(other_host.peer_hung_up(other.as_ref()), "valid in its own agreement");
        for forged in [None, Some(Confirmation([0; 32])), from_host, confirm_mac, other] {
            assert!(!host.peer_hung_up(forged.as_ref()), "{forged:?}");
        }
        // One flipped bit.
        let mut flipped = from_guest.unwrap();
        flipped.0[31] ^= 1;
        assert!(!host.peer_hung_up(Some(&flipped)));
    }
}

#[test]
fn before_the_first_confirmation_any_bye_counts_and_after_it_only_a_signed_one() {
    let (mut host, mut guest, _) = after_hellos("early bye", true, true);
    assert!(host.hang_up().is_some() && guest.hang_up().is_some(), "both keys are known");
    assert!(host.peer_hung_up(None), "the relay could stop this call anyway");
    exchange_sdps_via(&mut host, &mut guest, "AA", "BB", &honest);
    assert!(host.peer_hung_up(None), "not confirmed yet");
    exchange_confirmations(&mut host, &mut guest, &honest);
    assert!(!host.peer_hung_up(None), "confirmed: the peer signs its hang-ups");
    // A new connection (the relay may have forged an offer) changes nothing, nor does the
    // wait for its confirmation running out; the peer's hang-up meanwhile still verifies.
    host.restart_connection();
    guest.restart_connection();
    assert!(!host.peer_hung_up(None));
    host.handle_timeout(0);
    host.handle_timeout(session::CONFIRMATION_TIMEOUT_MS);
    assert_eq!(warning_of(&host), Some(WarningReason::ConfirmationTimeout));
    assert!(!host.peer_hung_up(None));
    assert!(host.peer_hung_up(guest.hang_up().as_ref()), "a hang-up during a reconnection");
    // Nor does the peer leaving: someone confirmed in this call, so the next peer's hang-ups
    // are expected signed too (and, before its hello, none can be).
    host.restart();
    assert!(!host.peer_hung_up(None));
    assert!(!host.peer_hung_up(guest.hang_up().as_ref()), "no peer to check against");
}
