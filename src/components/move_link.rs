//! The link (and its QR code) that moves this person's place in the call to another device.

use leptos::prelude::*;
use shieldcall_call::qr::qr_svg;

/// Shows `link` while it is `Some((url, what to tell))`: the URL to open on the other device
/// and the same as a QR code, drawn here as SVG (the link holds the call's secret, so it never
/// goes to an image service).
#[component]
pub fn MoveLinkPanel(
    /// The move link and its instructions (`MoveLink::instructions`), while shown.
    #[prop(into)]
    link: Signal<Option<(String, String)>>,
    /// Close the panel.
    on_close: Callback<()>,
) -> impl IntoView {
    move || {
        let (url, instructions) = link.get()?;
        let qr = qr_svg(&url).map(|qr| {
            let view_box = format!("0 0 {0} {0}", qr.size);
            view! {
                <svg
                    class="move-qr"
                    data-move-qr
                    viewBox=view_box
                    role="img"
                    aria-label="QR code of the move link"
                    shape-rendering="crispEdges"
                >
                    <rect width="100%" height="100%" fill="#fff" />
                    <path d=qr.path fill="#000" />
                </svg>
            }
        });
        Some(view! {
            <section class="move-link" data-move-link aria-labelledby="move-link-title">
                <h2 id="move-link-title">"Move the call to another device"</h2>
                <p>{instructions}</p>
                {qr}
                <input
                    type="text"
                    readonly
                    data-move-url
                    aria-label="Move link"
                    prop:value=url
                    on:focus=|ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        {
                            input.select();
                        }
                    }
                />
                <button type="button" data-move-close on:click=move |_| on_close.run(())>
                    "Close"
                </button>
            </section>
        })
    }
}
