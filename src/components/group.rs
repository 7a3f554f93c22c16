//! A group call's people: who is in the call (this person, the pair's partner, the others),
//! each other member's video on a tile of its own, and the link that adds someone.

use leptos::prelude::*;
use shieldcall_e2ee::session::ShieldState;
use web_sys::MediaStream;

/// What a member's tile says when the connection with them could not be confirmed.
pub const MEMBER_WARNING: &str = "This person's connection could not be checked against the call \
    link: someone may be intercepting it.";

use super::call_layout::StreamVideo;
use crate::call::GroupView;

/// Who is in the call and the others' tiles, while the call is a group; nothing otherwise.
/// Each tile stays while its member does (keyed by id): a video made afresh would go black.
#[component]
pub fn GroupPanel(
    /// Who is in the group call, once it is one.
    group: ReadSignal<Option<GroupView>, LocalStorage>,
) -> impl IntoView {
    let list = move || {
        let view = group.get()?;
        let me = view.me.map(|id| format!("You (person {id})")).unwrap_or_else(|| "You".into());
        let first = view.main.map(|id| {
            view! { <li data-participant=id.to_string()>{format!("Person {id}")}</li> }
        });
        let others = view
            .others
            .iter()
            .map(|tile| {
                let id = tile.id;
                view! { <li data-participant=id.to_string()>{format!("Person {id}")}</li> }
            })
            .collect_view();
        Some(view! {
            <ul class="participants" data-participants>
                <li data-participant-me>{me}</li>
                {first}
                {others}
            </ul>
        })
    };
    let tiles = move || group.with(|g| g.as_ref().map(|g| g.others.clone()).unwrap_or_default());
    view! {
        <section
            class="group"
            data-group
            aria-label="People in this call"
            hidden=move || group.with(Option::is_none)
        >
            {list}
            <div class="member-tiles">
                <For each=tiles key=|tile| tile.id let:tile>
                    {
                        let stream: Signal<Option<MediaStream>, LocalStorage> = tile.video.into();
                        let (status, shield) = (tile.status, tile.shield);
                        // This pair's own agreement failed (a relay posing as a member has no
                        // link secret): said on its tile, as the main shield says it for the
                        // pair that grew.
                        let warning = move || {
                            matches!(shield.get(), ShieldState::Warning { .. }).then(|| view! {
                                <p class="tile-warning" role="alert" data-member-warning>
                                    {MEMBER_WARNING}
                                </p>
                            })
                        };
                        view! {
                            <div
                                class="tile tile--member"
                                data-member=tile.id.to_string()
                                data-member-status=move || status.get().hook()
                            >
                                <StreamVideo stream hook="member" label="Another person in the call" />
                                <p class="tile-caption">{format!("Person {}", tile.id)}</p>
                                {warning}
                            </div>
                        }
                    }
                </For>
            </div>
        </section>
    }
}

/// Shows the link that adds a person while `link` is `Some(url)`.
#[component]
pub fn AddLinkPanel(
    /// The add link, while shown.
    #[prop(into)]
    link: Signal<Option<String>>,
    /// Close the panel.
    on_close: Callback<()>,
) -> impl IntoView {
    move || {
        let url = link.get()?;
        Some(view! {
            <section class="move-link" data-add-link aria-labelledby="add-link-title">
                <h2 id="add-link-title">"Add a participant"</h2>
                <p>
                    "Send this link to the person to add. Up to four people can be in the call; \
                     it stays without end-to-end encryption."
                </p>
                <input
                    type="text"
                    readonly
                    data-add-url
                    aria-label="Link that adds a participant"
                    prop:value=url
                />
                <button type="button" data-add-close on:click=move |_| on_close.run(())>
                    "Close"
                </button>
            </section>
        })
    }
}
