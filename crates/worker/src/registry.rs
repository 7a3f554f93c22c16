//! The live transforms and the mode they run in: which mode a new transform gets, which keys are
//! refused, and which sending slots have had a sender under the current keys. Pure: the browser
//! glue hands it transforms and commands and posts the events it returns.
//!
//! One KID must have one sender, or counters (and so nonces) repeat. So there is at most one
//! live transform per slot and direction (a newer one retires the older), and a sending slot
//! gets the current keys only once: a second sending transform for a slot waits for new keys.
//! New keys must come with a higher epoch than the last, so no sender ever starts its counter
//! again under keys used before.

use shieldcall_protocol::{Direction, Slot, TransformOptions, WorkerEvent};

use crate::mode::Mode;

/// A live transform as the registry sees it: its slot and direction, and a way to switch its
/// mode.
pub trait Attached {
    fn options(&self) -> TransformOptions;
    fn set_mode(&self, mode: &Mode);
    /// A newer transform of its slot and direction took over: it drops its frames from now on
    /// (its stream may still run), whatever mode comes later.
    fn retire(&self);
}

/// The live transforms (`T`: in the worker, `Rc<Transform>`) and the mode they run in.
pub struct Registry<T> {
    mode: Mode,
    transforms: Vec<T>,
    /// Sending slots that have had a sender under the current keys.
    keyed_send_slots: Vec<Slot>,
    /// The epoch of the last keys used: new keys must come with a higher one.
    last_keys_epoch: Option<u64>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            mode: Mode::AwaitKeys,
            transforms: Vec::new(),
            keyed_send_slots: Vec::new(),
            last_keys_epoch: None,
        }
    }
}

impl<T: Attached> Registry<T> {
    /// The live transforms, oldest first.
    pub fn transforms(&self) -> &[T] {
        &self.transforms
    }

    /// Take a new transform: it retires a live one of the same slot and direction, and gets the
    /// current mode, unless it is a second sender for a slot under the same keys: that one waits
    /// for new keys, and the returned error says so.
    pub fn add(&mut self, transform: T) -> Option<WorkerEvent> {
        let options = transform.options();
        // A retired transform would otherwise keep its keys, or pass frames in the clear, past
        // any later change.
        self.transforms.retain(|t| {
            let retired = t.options() == options;
            if retired {
                t.retire();
            }
            !retired
        });
        let keyed_before = self.keyed_send_slots.contains(&options.slot);
        let (mode, error) = match (&self.mode, options.direction) {
            (Mode::Keys(_), Direction::Send) if keyed_before => {
                let error = WorkerEvent::Error {
                    transform: Some(options),
                    message: "a second sender for this slot under the same keys: its frames \
                              are dropped until new keys arrive"
                        .into(),
                };
                (Mode::AwaitKeys, Some(error))
            }
            (Mode::Keys(_), Direction::Send) => {
                self.keyed_send_slots.push(options.slot);
                (self.mode.clone(), None)
            }
            _ => (self.mode.clone(), None),
        };
        transform.set_mode(&mode);
        self.transforms.push(transform);
        error
    }

    /// Switch every transform to `mode`; returns the mode in force, which is
    /// [`Mode::AwaitKeys`] when keys come without a higher epoch than the last (fail closed),
    /// and then also the error to post.
    pub fn set_mode(&mut self, mode: Mode) -> (Mode, Option<WorkerEvent>) {
        let (mode, error) = match mode {
            Mode::Keys(keys) if self.last_keys_epoch.is_some_and(|last| keys.epoch <= last) => {
                let error = WorkerEvent::Error {
                    transform: None,
                    message: "keys without a higher epoch were refused: counters would repeat"
                        .into(),
                };
                (Mode::AwaitKeys, Some(error))
            }
            Mode::Keys(keys) => {
                self.last_keys_epoch = Some(keys.epoch);
                (Mode::Keys(keys), None)
            }
            other => (other, None),
        };
        self.keyed_send_slots.clear();
        for transform in &self.transforms {
            transform.set_mode(&mode);
            let TransformOptions { slot, direction } = transform.options();
            if matches!(mode, Mode::Keys(_)) && direction == Direction::Send {
                self.keyed_send_slots.push(slot);
            }
        }
        self.mode = mode.clone();
        (mode, error)
    }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` and `panic!` are assertions.
    use std::cell::RefCell;
    use std::rc::Rc;

    use shieldcall_e2ee::BaseKey;
    use shieldcall_e2ee::sframe::CipherSuite;

    use super::*;
    use crate::mode::Keys;

    /// A transform that remembers the mode it was last given, as a label.
    struct Fake {
        options: TransformOptions,
        mode: RefCell<String>,
    }

    impl Attached for Rc<Fake> {
        fn options(&self) -> TransformOptions {
            self.options
        }

        fn set_mode(&self, mode: &Mode) {
            *self.mode.borrow_mut() = label(mode);
        }

        fn retire(&self) {
            *self.mode.borrow_mut() = "retired".into();
        }
    }

    fn label(mode: &Mode) -> String {
        match mode {
            Mode::AwaitKeys => "await".into(),
            Mode::TransportOnly => "transport".into(),
            Mode::Keys(keys) => format!("keys@{}", keys.epoch),
        }
    }

    fn fake(slot: u8, direction: Direction) -> Rc<Fake> {
        let slot = Slot::from_id(slot).unwrap();
        let options = TransformOptions::new(slot, direction);
        Rc::new(Fake { options, mode: RefCell::new("never set".into()) })
    }

    fn keys(epoch: u64) -> Mode {
        Mode::Keys(Rc::new(Keys {
            suite: CipherSuite::Aes128GcmSha256_128,
            epoch,
            send: BaseKey::from_slice(&[1; 16]),
            receive: BaseKey::from_slice(&[2; 16]),
        }))
    }

    fn mode_of(transform: &Rc<Fake>) -> String {
        transform.mode.borrow().clone()
    }

    const SEND: Direction = Direction::Send;
    const RECEIVE: Direction = Direction::Receive;

    #[test]
    fn a_new_transform_gets_the_mode_in_force_and_every_transform_follows_a_change() {
        let mut registry = Registry::default();
        let mic = fake(0, SEND);
        assert_eq!(registry.add(mic.clone()), None);
        assert_eq!(mode_of(&mic), "await", "no keys yet: fail closed");

        assert_eq!(label(&registry.set_mode(Mode::TransportOnly).0), "transport");
        assert_eq!(mode_of(&mic), "transport");
        let camera = fake(1, RECEIVE);
        assert_eq!(registry.add(camera.clone()), None);
        assert_eq!(mode_of(&camera), "transport");

        let (mode, error) = registry.set_mode(keys(1));
        assert_eq!((label(&mode), error), ("keys@1".into(), None));
        assert_eq!((mode_of(&mic), mode_of(&camera)), ("keys@1".into(), "keys@1".into()));
        let screen = fake(2, RECEIVE);
        assert_eq!(registry.add(screen.clone()), None);
        assert_eq!(mode_of(&screen), "keys@1");

        registry.set_mode(Mode::AwaitKeys);
        assert!(registry.transforms().iter().all(|t| mode_of(t) == "await"));
    }

    #[test]
    fn a_newer_transform_retires_the_older_of_its_slot_and_direction() {
        let mut registry = Registry::default();
        let (old, new, sender) = (fake(1, RECEIVE), fake(1, RECEIVE), fake(1, SEND));
        registry.add(old.clone());
        registry.add(sender.clone());
        registry.add(new.clone());
        let live = registry.transforms();
        assert_eq!(live.len(), 2);
        assert!(Rc::ptr_eq(&live[0], &sender) && Rc::ptr_eq(&live[1], &new));
        // The retired one no longer follows mode changes.
        registry.set_mode(Mode::TransportOnly);
        assert_eq!((mode_of(&old), mode_of(&new)), ("retired".into(), "transport".into()));
    }

    #[test]
    fn a_retired_transform_drops_its_frames_whatever_mode_it_had() {
        let mut registry = Registry::default();
        registry.set_mode(Mode::TransportOnly);
        let old = fake(1, RECEIVE);
        registry.add(old.clone());
        assert_eq!(mode_of(&old), "transport");
        registry.add(fake(1, RECEIVE));
        assert_eq!(mode_of(&old), "retired", "no longer passing frames in the clear");
        registry.set_mode(keys(1));
        assert_eq!(mode_of(&old), "retired", "nor given keys later");
    }

    #[test]
    fn a_second_sender_for_a_slot_waits_for_new_keys() {
        let mut registry = Registry::default();
        registry.set_mode(keys(1));
        let first = fake(1, SEND);
        assert_eq!(registry.add(first.clone()), None);
        assert_eq!(mode_of(&first), "keys@1");

        // Its counter would start again at 0 under the same key: that frame's nonce repeats.
        let second = fake(1, SEND);
        let Some(WorkerEvent::Error { transform: Some(options), message }) =
            registry.add(second.clone())
        else {
            panic!("a second sender is refused with an error about its slot");
        };
        assert_eq!(options, TransformOptions::new(Slot::Camera, SEND));
        assert!(message.contains("second sender"), "{message}");
        assert_eq!(mode_of(&second), "await");
        // Receivers of that slot and senders of other slots are not affected.
        let (receiver, other) = (fake(1, RECEIVE), fake(2, SEND));
        assert_eq!((registry.add(receiver.clone()), registry.add(other.clone())), (None, None));
        assert_eq!((mode_of(&receiver), mode_of(&other)), ("keys@1".into(), "keys@1".into()));

        // New keys: the live sender (the second) gets them, and a third sender waits again.
        registry.set_mode(keys(2));
        assert_eq!(mode_of(&second), "keys@2");
        let third = fake(1, SEND);
        assert!(registry.add(third.clone()).is_some());
        assert_eq!(mode_of(&third), "await");
    }

    #[test]
    fn senders_without_keys_are_not_counted_as_keyed() {
        let mut registry = Registry::default();
        registry.set_mode(Mode::TransportOnly);
        let (first, second) = (fake(0, SEND), fake(0, SEND));
        assert_eq!((registry.add(first), registry.add(second.clone())), (None, None));
        assert_eq!(mode_of(&second), "transport");
        // Keys arrive with one live sender for slot 0: it gets them, the next one waits.
        registry.set_mode(keys(1));
        assert_eq!(mode_of(&second), "keys@1");
        assert!(registry.add(fake(0, SEND)).is_some());
    }

    #[test]
    fn keys_without_a_higher_epoch_are_refused_and_everything_waits() {
        let mut registry = Registry::default();
        let sender = fake(0, SEND);
        registry.add(sender.clone());
        assert_eq!(registry.set_mode(keys(5)).1, None);
        for stale in [5, 4, 0] {
            let (mode, error) = registry.set_mode(keys(stale));
            assert_eq!(label(&mode), "await", "epoch {stale}");
            let Some(WorkerEvent::Error { transform: None, message }) = error else {
                panic!("refused keys are reported, as an error of no one transform");
            };
            assert!(message.contains("higher epoch"), "{message}");
            assert_eq!(mode_of(&sender), "await");
        }
        // Leaving E2EE in between does not make an old epoch usable again.
        registry.set_mode(Mode::TransportOnly);
        assert_eq!(label(&registry.set_mode(keys(5)).0), "await");
        let (mode, error) = registry.set_mode(keys(6));
        assert_eq!(
            (label(&mode), error, mode_of(&sender)),
            ("keys@6".into(), None, "keys@6".into())
        );
    }
}
