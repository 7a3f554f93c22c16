//! Awaiting a JavaScript promise from Rust for less than `JsFuture` costs.
//!
//! The worker awaits two or three promises per frame (the stream's `read()`, WebCrypto's call,
//! the stream's `write()`). `JsFuture` makes two new wasm closures for each (each a JS function
//! registered for finalization), which `make bench-browser` measured at 2-3 µs an await in
//! Chromium and 10-15 in Firefox, against well under 1 µs for an `await` in JavaScript. Here one
//! settle function lives as long as the worker; each await binds it twice to the await's slot
//! (`Function.prototype.bind`, native: two plain JS functions, one for each outcome, nothing
//! for wasm to track) and hands the pair to `then`: 1.6 µs an await in Chromium, 4-6 in Firefox.
//!
//! [`Slots`] is the bookkeeping, pure and tested on the host: a slot per await under way, with a
//! generation, so that a promise settling after its future was dropped (its slot since reused)
//! is ignored rather than given to the next await.

use std::task::Waker;

/// The awaits under way: their results once settled, and whom to wake.
pub struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

struct Slot<T> {
    generation: u32,
    open: bool,
    result: Option<T>,
    waker: Option<Waker>,
}

/// One await's slot: its index and the generation it was opened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub index: u32,
    pub generation: u32,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots { slots: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slots<T> {
    /// A slot for a new await.
    pub fn open(&mut self) -> Ticket {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot { generation: 0, open: false, result: None, waker: None });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        slot.open = true;
        Ticket { index, generation: slot.generation }
    }

    /// The promise of `ticket` settled with `result`: kept for its future, whose waker is
    /// returned to be woken (outside any borrow of the slots). Ignored for a slot closed or
    /// reopened since, or settled already.
    pub fn settle(&mut self, ticket: Ticket, result: T) -> Option<Waker> {
        let slot = self.live(ticket)?;
        if slot.result.is_some() {
            return None;
        }
        slot.result = Some(result);
        slot.waker.take()
    }

    /// The result of `ticket` if it settled (the slot is then closed); else `waker` is kept
    /// for when it does.
    pub fn poll(&mut self, ticket: Ticket, waker: &Waker) -> Option<T> {
        let slot = self.live(ticket)?;
        match slot.result.take() {
            Some(result) => {
                self.close(ticket);
                Some(result)
            }
            None => {
                slot.waker = Some(waker.clone());
                None
            }
        }
    }

    /// The future of `ticket` is done with it (taken, or dropped before its promise settled).
    pub fn close(&mut self, ticket: Ticket) {
        if let Some(slot) = self.live(ticket) {
            slot.open = false;
            slot.result = None;
            slot.waker = None;
            self.free.push(ticket.index);
        }
    }

    /// How many awaits are under way.
    pub fn open_count(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    fn live(&mut self, ticket: Ticket) -> Option<&mut Slot<T>> {
        self.slots
            .get_mut(ticket.index as usize)
            .filter(|slot| slot.open && slot.generation == ticket.generation)
    }
}

#[cfg(target_arch = "wasm32")]
pub use glue::{Settled, settled};

#[cfg(target_arch = "wasm32")]
mod glue {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use js_sys::{Function, Promise};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::JsValue;
    use wasm_bindgen::prelude::*;

    use super::{Slots, Ticket};

    #[wasm_bindgen]
    extern "C" {
        /// A promise seen only for `then(fulfilled, rejected)` with bound functions (js-sys's
        /// `then` takes only wasm closures).
        type Thenable;
        #[wasm_bindgen(method)]
        fn then(this: &Thenable, fulfilled: &JsValue, rejected: &JsValue) -> JsValue;
    }

    type Outcome = Result<JsValue, JsValue>;

    thread_local! {
        static SLOTS: RefCell<Slots<Outcome>> = RefCell::new(Slots::default());
        /// `(index, generation, fulfilled, value)`: bound to an await's slot for each `then`.
        static SETTLE: Function = Closure::<dyn FnMut(u32, u32, bool, JsValue)>::new(
            |index: u32, generation: u32, fulfilled: bool, value: JsValue| {
                let ticket = Ticket { index, generation };
                let outcome = if fulfilled { Ok(value) } else { Err(value) };
                let waker = SLOTS.with(|slots| slots.borrow_mut().settle(ticket, outcome));
                if let Some(waker) = waker {
                    waker.wake();
                }
            },
        )
        .into_js_value()
        .into();
    }

    /// `promise`'s value or rejection, awaited.
    pub fn settled(promise: &Promise) -> Settled {
        let ticket = SLOTS.with(|slots| slots.borrow_mut().open());
        SETTLE.with(|settle| {
            let (index, generation) =
                (JsValue::from(ticket.index), JsValue::from(ticket.generation));
            let fulfilled: JsValue =
                settle.bind3(&JsValue::NULL, &index, &generation, &JsValue::TRUE).into();
            let rejected: JsValue =
                settle.bind3(&JsValue::NULL, &index, &generation, &JsValue::FALSE).into();
            // `then`'s own promise (fulfilled once `settle` has run) is not needed.
            let _ = promise.unchecked_ref::<Thenable>().then(&fulfilled, &rejected);
        });
        Settled { ticket }
    }

    /// The future of [`settled`]. Like any future, not to be polled again once ready (its slot
    /// is closed then, and a poll would wait for ever).
    pub struct Settled {
        ticket: Ticket,
    }

    impl Future for Settled {
        type Output = Outcome;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
            match SLOTS.with(|slots| slots.borrow_mut().poll(self.ticket, cx.waker())) {
                Some(outcome) => Poll::Ready(outcome),
                None => Poll::Pending,
            }
        }
    }

    impl Drop for Settled {
        fn drop(&mut self) {
            // Taken already (closed), or given up: a late settle finds the slot closed.
            let _ = SLOTS.try_with(|slots| slots.borrow_mut().close(self.ticket));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::*;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn a_result_settled_before_the_first_poll_is_taken_at_once() {
        let mut slots = Slots::default();
        let ticket = slots.open();
        assert!(slots.settle(ticket, "value").is_none(), "nobody to wake yet");
        assert_eq!(slots.poll(ticket, Waker::noop()), Some("value"));
        assert_eq!(slots.open_count(), 0);
    }

    #[test]
    fn a_pending_await_is_woken_once_and_then_gets_its_result() {
        let mut slots = Slots::default();
        let ticket = slots.open();
        let (woken, waker) = counting_waker();
        assert_eq!(slots.poll(ticket, &waker), None);
        slots.settle(ticket, 7).expect("the waker").wake();
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(slots.settle(ticket, 8).is_none(), "a second settle changes nothing");
        assert_eq!(slots.poll(ticket, &waker), Some(7));
    }

    #[test]
    fn a_promise_settling_after_its_await_was_dropped_reaches_no_later_await() {
        let mut slots = Slots::default();
        let dropped = slots.open();
        slots.close(dropped);
        let next = slots.open();
        assert_eq!(next.index, dropped.index, "the slot is reused");
        assert!(slots.settle(dropped, "stale").is_none());
        assert_eq!(slots.poll(next, Waker::noop()), None, "not the stale result");
        slots.settle(next, "fresh");
        assert_eq!(slots.poll(next, Waker::noop()), Some("fresh"));
        assert_eq!(slots.poll(dropped, Waker::noop()), None);
    }

    #[test]
    fn a_taken_result_frees_its_slot_once_and_the_next_awaits_get_their_own() {
        let mut slots = Slots::default();
        let taken = slots.open();
        slots.settle(taken, 1);
        assert_eq!(slots.poll(taken, Waker::noop()), Some(1));
        slots.close(taken); // what dropping the finished future does
        assert_eq!(slots.open_count(), 0);
        let (a, b) = (slots.open(), slots.open());
        assert_ne!(a.index, b.index, "a slot freed twice would serve two awaits");
        slots.settle(b, 2);
        assert_eq!(slots.poll(a, Waker::noop()), None);
        assert_eq!(slots.poll(b, Waker::noop()), Some(2));
    }

    #[test]
    fn awaits_under_way_keep_their_own_results() {
        let mut slots = Slots::default();
        let tickets: Vec<Ticket> = (0..3).map(|_| slots.open()).collect();
        for (i, ticket) in tickets.iter().enumerate().rev() {
            slots.settle(*ticket, i);
        }
        for (i, ticket) in tickets.iter().enumerate() {
            assert_eq!(slots.poll(*ticket, Waker::noop()), Some(i));
        }
        assert_eq!(slots.open_count(), 0);
        slots.open();
        assert_eq!(slots.slots.len(), 3, "freed slots are used again, not added");
    }
}
