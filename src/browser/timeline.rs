//! The call's set-up steps on the page's performance timeline (`performance.mark`), where the
//! end-to-end tests read them to take the time to a locked shield apart. Fixed names only
//! (`Input::trace_name`, `Effect::trace_name` and a few of the page's own): no value of the
//! call is ever marked.

/// Marks `step` as `shieldcall: {step}`.
pub fn mark(step: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(&format!("shieldcall: {step}"));
    }
}
