//! The test-only `shieldcall-relay-mitm` binary (feature `mitm`), spawned on port 0: each attack
//! as the end-to-end tests use it, and its warning.

// Here `unwrap` and `expect` are assertions: if one fails, the test fails, as it should.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Spawned, call_id, join_pair, spawn_exe};
use shieldcall_protocol::{Hello, Signal};

const EXE: &str = env!("CARGO_BIN_EXE_shieldcall-relay-mitm");

fn mitm(args: &[&str]) -> Spawned {
    spawn_exe(EXE, args)
}

#[tokio::test]
async fn mitm_mode_swaps_the_hello_keys_and_warns() {
    let relay = mitm(&["--mitm-swap-keys"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let host_key = "BHostHostHostHost";
    let guest_key = "BGuestGuestGuest";

    host.send(&format!(r#"{{"t":"hello","v":1,"e2ee":true,"pub":"{host_key}"}}"#)).await;
    let to_guest = Signal::parse(&guest.recv().await).unwrap(); // the relay sends valid signals
    guest.send(&format!(r#"{{"t":"hello","v":1,"e2ee":false,"pub":"{guest_key}"}}"#)).await;
    let to_host = Signal::parse(&host.recv().await).unwrap();

    let (
        Signal::Hello(Hello { e2ee: true, public_key: k1, .. }),
        Signal::Hello(Hello { e2ee: false, public_key: k2, .. }),
    ) = (to_guest, to_host)
    else {
        panic!("hellos arrive as hellos with the sender's e2ee setting");
    };
    assert_ne!(k1, host_key);
    assert_ne!(k2, guest_key);
    assert_ne!(k1, k2, "one key per direction");
    assert_eq!((k1.len(), k2.len()), (87, 87), "65-byte points in base64url");

    // Everything else still passes verbatim.
    let offer = r#"{ "t":"offer","sdp":"x" }"#;
    host.send(offer).await;
    assert_eq!(guest.recv().await, offer);

    assert!(relay.stderr().contains("MAN-IN-THE-MIDDLE"));
}

#[tokio::test]
async fn add_fingerprint_adds_a_sha384_line_to_offers_and_answers() {
    let relay = mitm(&["--mitm-add-fingerprint"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let fingerprint = "a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:D3:4F:0C:6F:0B:F8:97:6A:1F:21:82:95:BC:A1:00:3C:B0:7E:4F:1D:10:93:A7:33:13";
    let sdp =
        format!("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{fingerprint}\r\na=setup:actpass\r\n");
    let added = shieldcall_relay::mitm::forged_fingerprint_line();
    let expected = format!(
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{fingerprint}\r\n{added}\r\na=setup:actpass\r\n"
    );

    host.send(&Signal::Offer { sdp: sdp.clone() }.to_json()).await;
    assert_eq!(
        Signal::parse(&guest.recv().await).unwrap(),
        Signal::Offer { sdp: expected.clone() }
    );
    guest.send(&Signal::Answer { sdp }.to_json()).await;
    assert_eq!(Signal::parse(&host.recv().await).unwrap(), Signal::Answer { sdp: expected });
    // The hellos pass untouched.
    let hello = r#"{"t":"hello","v":2,"e2ee":true,"pub":"BAAA"}"#;
    host.send(hello).await;
    assert_eq!(guest.recv().await, hello);
    assert!(relay.stderr().contains("--mitm-add-fingerprint: TEST-ONLY MAN-IN-THE-MIDDLE"));
}

#[tokio::test]
async fn drop_confirm_drops_confirmations_and_nothing_else() {
    let relay = mitm(&["--mitm-drop-confirm"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    host.send(r#"{"t":"confirm","mac":"AAAA"}"#).await;
    guest.send(r#"{"t":"confirm","mac":"BBBB"}"#).await;
    // The next thing each hears is what came after the confirmations.
    host.send(r#"{"t":"bye"}"#).await;
    assert_eq!(guest.recv().await, r#"{"t":"bye"}"#);
    guest.send(r#"{"t":"offer","sdp":"v=0"}"#).await;
    assert_eq!(host.recv().await, r#"{"t":"offer","sdp":"v=0"}"#);
    host.expect_quiet(Duration::from_millis(100)).await;
    assert!(relay.stderr().contains("--mitm-drop-confirm: TEST-ONLY MAN-IN-THE-MIDDLE"));
}

#[tokio::test]
async fn forge_bye_forwards_each_confirmation_then_hangs_up_in_its_senders_name() {
    let relay = mitm(&["--mitm-forge-bye"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let confirm = r#"{"t":"confirm","mac":"AAAA"}"#;
    host.send(confirm).await;
    assert_eq!(guest.recv().await, confirm, "the confirmation itself passes");
    let offer = r#"{"t":"offer","sdp":"v=0"}"#;
    host.send(offer).await;
    assert_eq!(guest.recv().await, offer, "and what follows it, before the forgery");
    // The forged hang-ups come later, to the confirmation's receiver only.
    guest.expect_quiet(Duration::from_secs(2)).await;
    for forged in shieldcall_relay::mitm::forged_byes() {
        assert_eq!(guest.recv().await, forged);
        assert!(matches!(Signal::parse(&forged), Ok(Signal::Bye { .. })));
    }
    host.expect_quiet(Duration::from_millis(1500)).await;
    assert!(relay.stderr().contains("--mitm-forge-bye: TEST-ONLY MAN-IN-THE-MIDDLE"));
}

#[tokio::test]
async fn drop_bye_drops_hang_ups_and_nothing_else() {
    let relay = mitm(&["--mitm-drop-bye"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    host.send(r#"{"t":"bye","mac":"AAAA"}"#).await;
    host.send(r#"{"t":"bye"}"#).await;
    let confirm = r#"{"t":"confirm","mac":"BBBB"}"#;
    host.send(confirm).await;
    assert_eq!(guest.recv().await, confirm, "the next thing heard is what followed");
    guest.expect_quiet(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn replay_sends_a_sides_signals_again_after_its_first_confirmation() {
    let relay = mitm(&["--mitm-replay"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let said = [
        r#"{"t":"hello","v":3,"e2ee":true,"pub":"BAAA"}"#,
        r#"{"t":"offer","sdp":"v=0"}"#,
        r#"{"t":"confirm","mac":"AAAA"}"#,
    ];
    for text in said {
        host.send(text).await;
        assert_eq!(guest.recv().await, text, "each passes at once");
    }
    // What follows the confirmation passes, and is not replayed.
    let after = r#"{"t":"ice","candidate":"late"}"#;
    host.send(after).await;
    assert_eq!(guest.recv().await, after);
    guest.expect_quiet(Duration::from_secs(2)).await;
    for text in said {
        assert_eq!(guest.recv().await, text, "then all of it again, in order");
    }
    // Once: a second confirmation is forwarded and nothing more comes.
    host.send(said[2]).await;
    assert_eq!(guest.recv().await, said[2]);
    guest.expect_quiet(Duration::from_millis(3500)).await;
    host.expect_quiet(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn reorder_forwards_offers_and_answers_late_and_the_rest_at_once() {
    let relay = mitm(&["--mitm-reorder"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let (offer, ice) = (r#"{"t":"offer","sdp":"v=0"}"#, r#"{"t":"ice","candidate":"c"}"#);
    host.send(offer).await;
    host.send(ice).await;
    assert_eq!(guest.recv().await, ice, "the candidate overtakes the offer");
    assert_eq!(guest.recv().await, offer);
    let (answer, confirm) = (r#"{"t":"answer","sdp":"v=0"}"#, r#"{"t":"confirm","mac":"AAAA"}"#);
    guest.send(answer).await;
    guest.send(confirm).await;
    assert_eq!(host.recv().await, confirm, "the confirmation overtakes the answer");
    assert_eq!(host.recv().await, answer);
}

#[tokio::test]
async fn garbage_follows_each_confirmation_to_its_receiver() {
    let relay = mitm(&["--mitm-garbage"]);
    let (mut host, mut guest) = join_pair(relay.addr, &call_id()).await;
    let confirm = r#"{"t":"confirm","mac":"AAAA"}"#;
    guest.send(confirm).await;
    assert_eq!(host.recv().await, confirm, "the confirmation itself passes");
    host.expect_quiet(Duration::from_secs(2)).await;
    for text in shieldcall_relay::mitm::garbage() {
        assert_eq!(host.recv().await, text);
    }
    guest.expect_quiet(Duration::from_millis(100)).await;
}

#[test]
fn its_help_lists_every_attack_and_it_takes_one() {
    let out = Command::new(EXE).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for attack in shieldcall_relay::mitm::Attack::ALL {
        assert!(help.contains(attack.flag()), "{attack:?}: {help}");
    }
    let out = Command::new(EXE).args(["--mitm-swap-keys", "--mitm-drop-confirm"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
