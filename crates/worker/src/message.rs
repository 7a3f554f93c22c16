//! What the worker does with one message from the page. The glue reads every message the one
//! way (`wasm.rs`: the command's bytes, or `{command, ...}` with keys or streams transferred
//! beside them)
//! into a [`WorkerCommand`] checked by [`WorkerCommand::from_parts`]; this module decides the
//! [`Step`] it makes. Pure, so every path is tested on the host.

use shieldcall_protocol::{
    ChatOrder, CommandError, MediaState, PayloadTypes, TransformOptions, WorkerCommand, WorkerEvent,
};

use crate::mode::Mode;

/// What one message makes the worker do.
pub enum Step {
    /// Run the transferred streams as a transform with these options.
    AttachStreams(TransformOptions),
    /// Streams came with a message that could not be read: drain them, dropping every frame,
    /// and post the error. The mode in force is kept: the message was about one transform.
    RefuseStreams(WorkerEvent),
    /// Switch every transform and the chat to this mode, and post the error if there is one. An
    /// unusable command (unreadable, or keys it cannot use) gives [`Mode::AwaitKeys`] with the
    /// error that says why: fail closed.
    SetMode(Mode, Option<WorkerEvent>),
    SealChat {
        id: u32,
        text: String,
    },
    SealChatReport {
        id: u32,
        order: ChatOrder,
    },
    OpenChat {
        id: u32,
        frame: Vec<u8>,
    },
    SealMediaState {
        id: u32,
        state: MediaState,
    },
    Codecs(PayloadTypes),
}

impl Step {
    /// The step for a command as [`WorkerCommand::from_parts`] read it, and whether streams
    /// came with it.
    pub fn of(command: Result<WorkerCommand, CommandError>, with_streams: bool) -> Step {
        let refuse = |error: CommandError| {
            Step::RefuseStreams(WorkerEvent::Error {
                transform: None,
                message: format!("streams refused, all their frames are dropped: {error}"),
            })
        };
        let command = match (command, with_streams) {
            (Ok(WorkerCommand::AttachStreams { options }), true) => {
                return Step::AttachStreams(options);
            }
            (Ok(_), true) => return refuse(CommandError::UnexpectedStreams),
            (Err(error), true) => return refuse(error),
            // `from_parts` never returns `AttachStreams` without streams; if it did, refuse it.
            (Ok(WorkerCommand::AttachStreams { .. }), false) => Err(CommandError::MissingStreams),
            (command, false) => command,
        };
        let command = match command {
            Ok(WorkerCommand::SealChat { id, text }) => return Step::SealChat { id, text },
            Ok(WorkerCommand::SealChatReport { id, order }) => {
                return Step::SealChatReport { id, order };
            }
            Ok(WorkerCommand::OpenChat { id, frame }) => return Step::OpenChat { id, frame },
            Ok(WorkerCommand::SealMediaState { id, state }) => {
                return Step::SealMediaState { id, state };
            }
            Ok(WorkerCommand::Codecs { payload_types }) => return Step::Codecs(payload_types),
            other => other.map_err(|e| e.to_string()),
        };
        match command.and_then(Mode::from_command) {
            Ok(mode) => Step::SetMode(mode, None),
            Err(message) => Step::SetMode(
                Mode::AwaitKeys,
                Some(WorkerEvent::Error { transform: None, message }),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` and `panic!` are assertions.
    use shieldcall_protocol::{Direction, SecretBytes, Slot, Transferred};

    use super::*;

    fn step(bytes: &[u8], transferred: Transferred<'_>) -> Step {
        let streams = transferred == Transferred::Streams;
        Step::of(WorkerCommand::from_parts(bytes, transferred), streams)
    }

    fn use_keys(epoch: u64) -> Vec<u8> {
        let (send, receive) = (SecretBytes::default(), SecretBytes::default());
        WorkerCommand::UseKeys { suite: 4, epoch, send, receive }.encode()
    }

    fn error_of(step: Step) -> String {
        match step {
            Step::SetMode(
                Mode::AwaitKeys,
                Some(WorkerEvent::Error { transform: None, message }),
            ) => message,
            Step::RefuseStreams(WorkerEvent::Error { transform: None, message }) => message,
            _ => panic!("an error that names no transform"),
        }
    }

    #[test]
    fn streams_with_their_command_attach_a_transform_of_those_options() {
        let options = TransformOptions::new(Slot::ScreenAudio, Direction::Send);
        let bytes = WorkerCommand::AttachStreams { options }.encode();
        let Step::AttachStreams(got) = step(&bytes, Transferred::Streams) else {
            panic!("a transform is attached");
        };
        assert_eq!(got, options);
    }

    #[test]
    fn streams_with_anything_else_are_drained_and_the_mode_is_kept() {
        for (bytes, why) in [
            (vec![1, 4, 0], "slot 4 names no media slot"),
            (vec![1, 1, 9], "direction 9 is unknown"),
            (vec![1], "ends inside its slot"),
            (WorkerCommand::AwaitKeys.encode(), "streams came with a command that takes none"),
            (use_keys(1), "no key bytes"),
            (b"{\"kind\":\"await-keys\"}".to_vec(), "does not understand"),
        ] {
            let step = step(&bytes, Transferred::Streams);
            assert!(matches!(step, Step::RefuseStreams(_)), "{bytes:?}");
            let message = error_of(step);
            assert!(message.starts_with("streams refused, all their frames are dropped: "));
            assert!(message.contains(why), "{bytes:?}: {message}");
        }
        // The glue's own check, should `from_parts` ever let one through.
        let ok = Ok(WorkerCommand::TransportOnly);
        let message = error_of(Step::of(ok, true));
        assert!(message.contains("streams came with a command that takes none"), "{message}");
    }

    #[test]
    fn attach_streams_without_streams_fails_closed() {
        let options = TransformOptions::new(Slot::Camera, Direction::Send);
        let bytes = WorkerCommand::AttachStreams { options }.encode();
        let message = error_of(step(&bytes, Transferred::Nothing));
        assert!(message.contains("no readable and writable stream"), "{message}");
        let message = error_of(Step::of(Ok(WorkerCommand::AttachStreams { options }), false));
        assert!(message.contains("no readable and writable stream"), "{message}");
    }

    #[test]
    fn unreadable_commands_and_unusable_keys_fail_closed_with_a_reason() {
        let message = error_of(step(&[42], Transferred::Nothing));
        assert!(message.contains("command 42 is unknown"), "{message}");
        let await_keys = WorkerCommand::AwaitKeys.encode();
        let message = error_of(step(&await_keys, Transferred::Keys(&[1; 32])));
        assert!(message.contains("key bytes came with a command that takes none"), "{message}");
        let message = error_of(step(&use_keys(1), Transferred::Keys(&[1; 8])));
        assert!(message.contains("wrong length"), "{message}");
    }

    #[test]
    fn other_commands_make_their_own_step() {
        let keys = WorkerCommand::UseKeys {
            suite: 4,
            epoch: 1,
            send: SecretBytes::new(vec![1; 16]),
            receive: SecretBytes::new(vec![2; 16]),
        };
        let bytes = keys.key_bytes().unwrap();
        assert!(matches!(
            step(&keys.encode(), Transferred::Keys(&bytes)),
            Step::SetMode(Mode::Keys(_), None)
        ));
        assert!(matches!(
            step(&WorkerCommand::TransportOnly.encode(), Transferred::Nothing),
            Step::SetMode(Mode::TransportOnly, None)
        ));
        assert!(matches!(
            step(&WorkerCommand::AwaitKeys.encode(), Transferred::Nothing),
            Step::SetMode(Mode::AwaitKeys, None)
        ));
        let seal = WorkerCommand::SealChat { id: 4, text: "hi".into() }.encode();
        assert!(matches!(step(&seal, Transferred::Nothing), Step::SealChat { id: 4, .. }));
        let report = WorkerCommand::SealChatReport { id: 5, order: ChatOrder::Late }.encode();
        assert!(matches!(
            step(&report, Transferred::Nothing),
            Step::SealChatReport { id: 5, order: ChatOrder::Late }
        ));
        let open = WorkerCommand::OpenChat { id: 6, frame: vec![0] }.encode();
        assert!(matches!(step(&open, Transferred::Nothing), Step::OpenChat { id: 6, .. }));
        let codecs = WorkerCommand::Codecs { payload_types: PayloadTypes::default() }.encode();
        assert!(matches!(step(&codecs, Transferred::Nothing), Step::Codecs(_)));
        let state = MediaState { mic: false, camera: true, screen: false };
        let seal_state = WorkerCommand::SealMediaState { id: 7, state }.encode();
        assert!(matches!(
            step(&seal_state, Transferred::Nothing),
            Step::SealMediaState { id: 7, state: s } if s == state
        ));
    }
}
