//! The mode the worker runs its transforms and its chat in, and the command that sets it.

use std::rc::Rc;

use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::sframe::CipherSuite;
use shieldcall_protocol::WorkerCommand;

/// What the worker does with frames.
#[derive(Clone, Default)]
pub enum Mode {
    /// E2EE on, no keys yet: drop everything.
    #[default]
    AwaitKeys,
    /// Transport encryption only: pass frames unchanged.
    TransportOnly,
    /// E2EE with these keys.
    Keys(Rc<Keys>),
}

/// The base keys of both directions at one epoch.
pub struct Keys {
    pub suite: CipherSuite,
    pub epoch: u64,
    pub send: BaseKey,
    pub receive: BaseKey,
}

impl Mode {
    /// The mode a command asks for; `Err` when the command is unusable (unknown suite, bad key
    /// length), in which case the worker fails closed.
    pub fn from_command(command: WorkerCommand) -> Result<Self, String> {
        Ok(match command {
            WorkerCommand::SealChat { .. }
            | WorkerCommand::SealChatReport { .. }
            | WorkerCommand::OpenChat { .. }
            | WorkerCommand::SealMediaState { .. }
            | WorkerCommand::Codecs { .. }
            | WorkerCommand::AttachStreams { .. } => {
                return Err("not a mode".into());
            }
            WorkerCommand::AwaitKeys => Mode::AwaitKeys,
            WorkerCommand::TransportOnly => Mode::TransportOnly,
            WorkerCommand::UseKeys { suite, epoch, send, receive } => {
                let suite = CipherSuite::from_id(suite)
                    .map_err(|_| format!("cipher suite {suite:#06x} is not supported"))?;
                if send.expose().len() != suite.nk() || receive.expose().len() != suite.nk() {
                    return Err("a key has the wrong length for its cipher suite".into());
                }
                Mode::Keys(Rc::new(Keys {
                    suite,
                    epoch,
                    send: BaseKey::from_slice(send.expose()),
                    receive: BaseKey::from_slice(receive.expose()),
                }))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` and `panic!` are assertions.
    use shieldcall_protocol::{ChatOrder, Direction, SecretBytes, Slot, TransformOptions};

    use super::*;

    fn use_keys(suite: u16, send: &[u8], receive: &[u8]) -> WorkerCommand {
        WorkerCommand::UseKeys {
            suite,
            epoch: 9,
            send: SecretBytes::new(send.to_vec()),
            receive: SecretBytes::new(receive.to_vec()),
        }
    }

    #[test]
    fn keys_of_a_known_suite_and_its_length_make_the_keys_mode() {
        let Ok(Mode::Keys(keys)) = Mode::from_command(use_keys(4, &[1; 16], &[2; 16])) else {
            panic!("AES-128-GCM with two 16-byte keys is a mode");
        };
        assert_eq!((keys.suite, keys.epoch), (CipherSuite::Aes128GcmSha256_128, 9));
        assert_eq!(keys.send, BaseKey::from_slice(&[1; 16]));
        assert_eq!(keys.receive, BaseKey::from_slice(&[2; 16]));
        // AES-256-GCM where the E2EE core is built with it (feature `every-suite`).
        if let Ok(aes256) = CipherSuite::from_id(5) {
            let Ok(Mode::Keys(keys)) = Mode::from_command(use_keys(5, &[1; 32], &[2; 32])) else {
                panic!("AES-256-GCM with two 32-byte keys is a mode");
            };
            assert_eq!(keys.suite, aes256);
        }
        assert!(matches!(Mode::from_command(WorkerCommand::AwaitKeys), Ok(Mode::AwaitKeys)));
        assert!(matches!(
            Mode::from_command(WorkerCommand::TransportOnly),
            Ok(Mode::TransportOnly)
        ));
    }

    #[test]
    fn unusable_keys_and_other_commands_are_no_mode() {
        let error = |command| match Mode::from_command(command) {
            Err(message) => message,
            Ok(_) => panic!("not a usable mode"),
        };
        assert_eq!(
            error(use_keys(0x9999, &[1; 16], &[2; 16])),
            "cipher suite 0x9999 is not supported"
        );
        let wrong = "a key has the wrong length for its cipher suite";
        assert_eq!(error(use_keys(4, &[1; 32], &[2; 16])), wrong);
        assert_eq!(error(use_keys(4, &[1; 16], &[2; 15])), wrong);
        // The worker a page loads has AES-128-GCM only: a call never uses another suite, and
        // one it was asked for anyway fails closed, by name.
        for suite in [1, 2, 3, 5] {
            if CipherSuite::from_id(suite).is_ok() {
                assert_eq!(error(use_keys(suite, &[1; 16], &[2; 16])), wrong);
            } else {
                let expected = format!("cipher suite 0x{suite:04x} is not supported");
                assert_eq!(error(use_keys(suite, &[1; 32], &[2; 32])), expected);
            }
        }
        assert_eq!(error(WorkerCommand::SealChat { id: 1, text: "hi".into() }), "not a mode");
        assert_eq!(
            error(WorkerCommand::SealChatReport { id: 1, order: ChatOrder::Late }),
            "not a mode"
        );
        assert_eq!(error(WorkerCommand::OpenChat { id: 1, frame: "AA".into() }), "not a mode");
        assert_eq!(
            error(WorkerCommand::Codecs { payload_types: Default::default() }),
            "not a mode"
        );
        let options = TransformOptions::new(Slot::Camera, Direction::Send);
        assert_eq!(error(WorkerCommand::AttachStreams { options }), "not a mode");
    }
}
