//! The connection-quality icon: three bars, lit by how good the connection is, with the
//! figures in words as its tooltip and accessible name.

use leptos::prelude::*;
use shieldcall_call::quality::QualityView;

/// Bars for the connection's quality (`data-quality`: `good`, `fair`, `poor`), nothing before
/// the first measurement.
///
/// An image whose name is the description ("Good connection: 24 ms round trip, 0% loss, ..."),
/// focusable so that keyboard users get the tooltip too. Not a live region: it changes every
/// two seconds, and announcing that would drown everything else.
#[component]
pub fn QualityIndicator(
    /// The connection's quality, once measured.
    #[prop(into)]
    quality: Signal<Option<QualityView>>,
) -> impl IntoView {
    move || {
        quality.get().map(|view| {
            let description = view.description();
            let lit = view.quality.bars();
            view! {
                <span
                    class="control control--small quality"
                    data-quality=view.quality.as_str()
                    role="img"
                    tabindex="0"
                    aria-label=description.clone()
                    data-tip=description
                >
                    <svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
                        {(1..=3u8)
                            .map(|bar| {
                                let height = 4 + 5 * i32::from(bar);
                                view! {
                                    <rect
                                        x=(2 + 7 * (i32::from(bar) - 1)).to_string()
                                        y=(21 - height).to_string()
                                        width="5"
                                        height=height.to_string()
                                        rx="1"
                                        class:lit={bar <= lit}
                                    />
                                }
                            })
                            .collect_view()}
                    </svg>
                </span>
            }
        })
    }
}
