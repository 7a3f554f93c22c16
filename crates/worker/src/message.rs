//! What the worker does with one message from the page. The glue reads every message the one
//! way (`wasm.rs`: JSON text, or `{command, ...}` with keys or streams transferred beside it)
//! into a [`WorkerCommand`] checked by [`WorkerCommand::from_parts`]; this module decides the
//! [`Step`] it makes. Pure, so every path is tested on the host.

use shieldcall_protocol::{
    ChatOrder, CommandError, PayloadTypes, TransformOptions, WorkerCommand, WorkerEvent,
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
        frame: String,
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

    fn step(json: &str, transferred: Transferred<'_>) -> Step {
        let streams = transferred == Transferred::Streams;
        Step::of(WorkerCommand::from_parts(json, transferred), streams)
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
        let json = WorkerCommand::AttachStreams { options }.to_json();
        let Step::AttachStreams(got) = step(&json, Transferred::Streams) else {
            panic!("a transform is attached");
        };
        assert_eq!(got, options);
    }

    #[test]
    fn streams_with_anything_else_are_drained_and_the_mode_is_kept() {
        for (json, why) in [
            (r#"{"kind":"attach-streams","options":{"slot":4,"direction":"send"}}"#, "slot 4"),
            (r#"{"kind":"attach-streams","options":{"slot":1,"direction":"up"}}"#, "`up`"),
            (r#"{"kind":"attach-streams","options":{}}"#, "missing field `slot`"),
            (r#"{"kind":"await-keys"}"#, "streams came with a command that takes none"),
            (r#"{"kind":"use-keys","suite":4,"epoch":1}"#, "no key bytes"),
            ("not json", "does not understand"),
        ] {
            let step = step(json, Transferred::Streams);
            assert!(matches!(step, Step::RefuseStreams(_)), "{json}");
            let message = error_of(step);
            assert!(message.starts_with("streams refused, all their frames are dropped: "));
            assert!(message.contains(why), "{json}: {message}");
        }
        // The glue's own check, should `from_parts` ever let one through.
        let ok = Ok(WorkerCommand::TransportOnly);
        let message = error_of(Step::of(ok, true));
        assert!(message.contains("streams came with a command that takes none"), "{message}");
    }

    #[test]
    fn attach_streams_without_streams_fails_closed() {
        let json = r#"{"kind":"attach-streams","options":{"slot":1,"direction":"send"}}"#;
        let message = error_of(step(json, Transferred::Nothing));
        assert!(message.contains("no readable and writable stream"), "{message}");
        let options = TransformOptions::new(Slot::Camera, Direction::Send);
        let message = error_of(Step::of(Ok(WorkerCommand::AttachStreams { options }), false));
        assert!(message.contains("no readable and writable stream"), "{message}");
    }

    #[test]
    fn unreadable_commands_and_unusable_keys_fail_closed_with_a_reason() {
        let message = error_of(step(r#"{"kind":"sideways"}"#, Transferred::Nothing));
        assert!(message.contains("unknown variant `sideways`"), "{message}");
        let message = error_of(step(r#"{"kind":"await-keys"}"#, Transferred::Keys(&[1; 32])));
        assert!(message.contains("key bytes came with a command that takes none"), "{message}");
        let message = error_of(step(
            r#"{"kind":"use-keys","suite":4,"epoch":1}"#,
            Transferred::Keys(&[1; 8]),
        ));
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
            step(&keys.to_json(), Transferred::Keys(&bytes)),
            Step::SetMode(Mode::Keys(_), None)
        ));
        assert!(matches!(
            step(r#"{"kind":"transport-only"}"#, Transferred::Nothing),
            Step::SetMode(Mode::TransportOnly, None)
        ));
        assert!(matches!(
            step(r#"{"kind":"await-keys"}"#, Transferred::Nothing),
            Step::SetMode(Mode::AwaitKeys, None)
        ));
        let seal = WorkerCommand::SealChat { id: 4, text: "hi".into() }.to_json();
        assert!(matches!(step(&seal, Transferred::Nothing), Step::SealChat { id: 4, .. }));
        let report = WorkerCommand::SealChatReport { id: 5, order: ChatOrder::Late }.to_json();
        assert!(matches!(
            step(&report, Transferred::Nothing),
            Step::SealChatReport { id: 5, order: ChatOrder::Late }
        ));
        let open = WorkerCommand::OpenChat { id: 6, frame: "AA".into() }.to_json();
        assert!(matches!(step(&open, Transferred::Nothing), Step::OpenChat { id: 6, .. }));
        let codecs = WorkerCommand::Codecs { payload_types: PayloadTypes::default() }.to_json();
        assert!(matches!(step(&codecs, Transferred::Nothing), Step::Codecs(_)));
    }
}
