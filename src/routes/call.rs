use leptos::prelude::*;
use shieldcall_call::prejoin::{E2eePlan, JOINING_AT_MOST_MS, PreJoin, RoomNews, call_screen_due};
use shieldcall_call::shortcuts::Shortcut;
use shieldcall_call::texts::{copy_out_unavailable, warning_text};
use shieldcall_e2ee::session::ShieldState;
use shieldcall_protocol::CallId;
use web_sys::MediaStream;

use crate::browser::peer::MediaKind;
use crate::browser::timeline;
use crate::browser::use_audio_level::use_audio_level;
use crate::browser::use_captions::use_captions;
use crate::browser::use_local_media::{UseLocalMediaReturn, set_enabled, use_local_media};
use crate::browser::use_recorder::{RecorderState, use_recorder};
use crate::browser::use_relay::{self, Presence};
use crate::browser::use_shortcuts::use_shortcuts;
use crate::browser::worker::browser_features;
use crate::call::{
    CALL_FULL, CallHandle, CallStatus, RecordingMix, start_certificate_early, start_worker_early,
    use_call,
};
use crate::call_link::{CallRole, role_for, take_link_from_address_bar};
use crate::components::{
    AddLinkPanel, CallLayout, CallScreen, Captions, ChatPanel, Controls, FeaturesMenu, GroupPanel,
    MoveLinkPanel, ParkedPanel, PreJoinScreen, ShortcutsHelp, TransferForm, TransferLinkPanel,
    now_ms,
};
use crate::config::{AppConfig, use_loaded_config};
use crate::settings::e2ee_enabled;
use shieldcall_call::group::is_add_fragment;

/// A call: check the link, wait for the organisation's policy (the app's config), then join.
#[component]
pub fn Call(
    /// The call's id, from its path.
    id: String,
) -> impl IntoView {
    let href = take_link_from_address_bar(&id);
    let role = match role_for(&id, &href) {
        Ok(role) => role,
        Err(problem) => {
            return view! {
                <section class="page call-error" role="alert" data-call-error="link">
                    <h1>"This call link does not work"</h1>
                    <p>{format!("{}{}", capitalise(&problem.to_string()), ".")}</p>
                    <p>
                        "Open the link again from where you received it, or ask the person who \
                         sent it for a new one. If you started this call and reloaded the page, \
                         start a new call: its keys are never stored."
                    </p>
                </section>
            }
            .into_any();
        }
    };
    // An add link's group call has no E2EE: its pre-join screen does not promise any.
    let add_link = href.split_once('#').is_some_and(|(_, fragment)| is_add_fragment(fragment));
    // `role_for` checked the id already.
    let id = CallId::parse(&id).expect("validated call id");
    start_worker_early();
    if !matches!(role, CallRole::Host) {
        start_certificate_early();
    }
    let config = use_loaded_config();
    view! {
        {move || match config.get() {
            None => view! { <p class="page" role="status">"Preparing the call…"</p> }.into_any(),
            Some(config) => view! { <CallRoom id role=role.clone() config add_link /> }.into_any(),
        }}
    }
    .into_any()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The call of a valid link: the pre-join screen first, then, once the person joins, the call.
#[component]
fn CallRoom(
    /// The call id from the link.
    id: CallId,
    /// Whether this page made the link or opened it.
    role: CallRole,
    /// ICE servers and policy.
    config: AppConfig,
    /// The page was opened from a link that adds a person to a group call.
    add_link: bool,
) -> impl IntoView {
    // Read once: the pre-join screen says what the call then uses. A call moved here out of a
    // transport-only call stays so (PROTOCOL.md change 43), so its pre-join screen does not
    // promise E2EE; a re-keyed move (change 44) keeps this browser's setting; a group call's
    // (change 46) does not promise it either.
    let chosen =
        e2ee_enabled() && !matches!(&role, CallRole::Moved(link) if !link.rekeyed) && !add_link;
    // A browser that cannot encrypt frames is told before joining, not given a call whose
    // every frame would be dropped. (With E2EE off, or not allowed, it joins as it is.)
    let wants_e2ee = chosen && config.e2ee_allowed;
    if let Some(gap) = browser_features().e2ee_gap().filter(|_| wants_e2ee) {
        return view! {
            <section class="page call-error" role="alert" data-call-error="browser">
                <h1>"This browser cannot join an end-to-end encrypted call"</h1>
                <p>{format!("This browser cannot end-to-end encrypt calls: {}.", gap.what())}</p>
                <p>
                    "Open the link in a current Chrome, Edge, Chromium or Firefox. Or turn off "
                    <a href="/settings">"end-to-end encrypted calls"</a>
                    " in Settings and open the link again, to join with transport encryption \
                     only: the other person will see that the call is not end-to-end encrypted."
                </p>
            </section>
        }
        .into_any();
    }
    // The camera and microphone are asked for now and kept for the call (no second prompt);
    // the relay is joined only once the person presses Join. (The media worker is already on
    // its way: `Call` started it.)
    let media = use_local_media();
    // The relay's socket opens now too, its handshake done by Join (it joins nothing before).
    use_relay::warm_up(&id.to_string());
    on_cleanup(use_relay::cool_down);
    let (mic_wanted, set_mic_wanted) = signal(true);
    let (camera_wanted, set_camera_wanted) = signal(true);
    let plan = E2eePlan::new(chosen, config.e2ee_allowed);
    let state = Memo::new(move |_| PreJoin {
        e2ee: plan,
        microphone: media.microphone.get(),
        camera: media.camera.get(),
        mic_wanted: mic_wanted.get(),
        camera_wanted: camera_wanted.get(),
    });
    let host = role == CallRole::Host;
    // Join starts the call at once (relay, keys, connection); the call screen comes once the
    // call has something to show (`call_screen_due`): building it would hold up the set-up.
    // Weak: the Join callback lives in this owner, and must not keep it (and the call's
    // clean-ups) alive.
    let owner = Owner::current().map(|owner| owner.downgrade());
    let (call, set_call) = signal(None::<CallHandle>);
    let (joining_timed_out, set_joining_timed_out) = signal(false);
    let join = Callback::new(move |()| {
        if call.get_untracked().is_some() {
            return;
        }
        timeline::mark("join pressed");
        let (id, role, config) = (id, role.clone(), config.clone());
        let start = move || use_call(id, role, chosen, config, media, state.into());
        // The call belongs to this page's owner, whose clean-up ends it; without one, none.
        let Some(owner) = owner.as_ref().and_then(|owner| owner.upgrade()) else { return };
        let handle = owner.with(start);
        set_call.set(Some(handle));
        set_timeout(
            move || set_joining_timed_out.set(true),
            std::time::Duration::from_millis(JOINING_AT_MOST_MS),
        );
    });
    // Once shown, the call screen stays (a call that goes back to connecting keeps it).
    let in_call = Memo::new(move |shown: Option<&bool>| {
        shown == Some(&true)
            || call.get().is_some_and(|call| {
                let room = match call.relay.get() {
                    Presence::Waiting => RoomNews::Alone,
                    Presence::Full | Presence::Reconnecting(_) | Presence::Disconnected(_) => {
                        RoomNews::Trouble
                    }
                    _ => RoomNews::NothingToShow,
                };
                let waited = if joining_timed_out.get() { JOINING_AT_MOST_MS } else { 0 };
                call.status.with(|status| {
                    call.shield.with(|shield| call_screen_due(status, shield, room, waited))
                })
            })
    });
    let joining = Signal::derive(move || call.with(Option::is_some));
    let step = move || match (in_call.get(), call.get_untracked()) {
        (true, Some(call)) => view! { <InCall call /> }.into_any(),
        _ => view! {
            <PreJoinStep
                media
                state=state.into()
                host
                on_toggle_mic=Callback::new(move |()| set_mic_wanted.update(|on| *on = !*on))
                on_toggle_camera=Callback::new(move |()| set_camera_wanted.update(|on| *on = !*on))
                on_join=join
                joining
            />
        }
        .into_any(),
    };
    step.into_any()
}

/// The pre-join screen with its browser parts: the microphone's level meter (running only while
/// this screen shows) and the toggles acting on the tracks.
#[component]
fn PreJoinStep(
    /// The camera and microphone, asked for by the call page.
    media: UseLocalMediaReturn,
    /// What the screen shows.
    state: Signal<PreJoin>,
    /// Whether this page made the call.
    host: bool,
    /// The toggles, and Join.
    on_toggle_mic: Callback<()>,
    on_toggle_camera: Callback<()>,
    on_join: Callback<()>,
    /// Join was pressed; the call screen is not shown yet.
    joining: Signal<bool>,
) -> impl IntoView {
    let level = use_audio_level(media.stream);
    // A toggle acts on the track at once: the preview goes dark, the meter falls to zero.
    Effect::new(move || {
        let pre = state.get();
        if let Some(stream) = media.stream.get() {
            set_enabled(&stream, MediaKind::Audio, pre.mic_wanted);
            set_enabled(&stream, MediaKind::Video, pre.camera_wanted);
        }
    });
    let switch = media.switch;
    view! {
        <PreJoinScreen
            state
            host
            preview=media.stream
            level=level.level
            level_held=level.held
            on_toggle_mic
            on_toggle_camera
            microphones=media.microphones
            microphone=media.microphone_id
            on_microphone=Callback::new(move |id| switch.run((MediaKind::Audio, id)))
            cameras=media.cameras
            camera=media.camera_id
            on_camera=Callback::new(move |id| switch.run((MediaKind::Video, id)))
            on_join
            joining
        />
    }
}

/// The call screen of a call joined (its relay, connection and media started at Join).
#[component]
fn InCall(
    /// The call.
    call: CallHandle,
) -> impl IntoView {
    let (chat_open, set_chat_open) = signal(false);
    let status = call.status;
    let relay = call.relay;
    let group = call.group;
    let in_group = move || group.with(|g| g.as_ref().is_some_and(|g| !g.others.is_empty()));
    let status_text = move || match (status.get(), relay.get()) {
        (CallStatus::Ended(why), _) => why,
        (CallStatus::Connected, Presence::Disconnected(_)) => "Connected. The call's relay cannot \
            be reached (still trying): until it is back, a dropped connection cannot be set up \
            again."
            .into(),
        (_, Presence::Full) => CALL_FULL.into(),
        (_, Presence::Reconnecting(n)) => {
            format!("Connection to the call lost; reconnecting ({n})…")
        }
        (_, Presence::Disconnected(why)) => format!("Not connected: {why}."),
        // The camera and microphone started on the pre-join screen; the media worker may not yet.
        (CallStatus::Preparing, _) => "Joining the call…".into(),
        (CallStatus::Waiting, _) => "Waiting for the other person to join.".into(),
        (CallStatus::Connecting, _) => "Connecting…".into(),
        (CallStatus::Connected, _) => "Connected.".into(),
        // In a group, the others' calls go on without the pair's partner.
        (CallStatus::PeerLeft, _) if in_group() => "Someone left; the call goes on.".into(),
        (CallStatus::PeerLeft, _) => "The other person left. Waiting for them to come back…".into(),
        (CallStatus::OnHold, _) => {
            "On hold: the other person parked the call. Waiting for it to be picked up…".into()
        }
        // Said once per attempt, not counted down: a polite live region would read the whole
        // line again every second.
        (CallStatus::Retrying { attempt, .. }, _) => format!(
            "The media connection failed. Trying again shortly (attempt {attempt}); each \
             attempt waits longer."
        ),
    };
    // A full call ends the call too; "full" says which ending.
    let status_hook = move || match (status.get(), relay.get()) {
        (_, Presence::Full) => "full",
        (CallStatus::Ended(_), _) => "ended",
        (CallStatus::Connected, Presence::Disconnected(_)) => "connected",
        (_, Presence::Reconnecting(_)) => "reconnecting",
        (_, Presence::Disconnected(_)) => "disconnected",
        (now, _) => now.hook(),
    };
    let shield = call.shield;
    let call_over = Signal::derive(move || matches!(status.get(), CallStatus::Ended(_)));
    // Features that copy the call out of the two devices are offered only while the call goes
    // on and is known to be transport-only; otherwise, why not.
    let copy_out_off =
        Signal::derive(move || shield.with(|shield| copy_out_unavailable(shield, call_over.get())));

    // Recording: the other person's camera and both voices, saved as a .webm file.
    let (record_stream, set_record_stream) = signal_local(None::<MediaStream>);
    let recorder = use_recorder(record_stream.into());
    let mix = StoredValue::new_local(None::<RecordingMix>);
    let recording = recorder.recording;
    let (recording_error, set_recording_error) = signal(None::<String>);
    // The recording's audio graph, if one is made: closed when recording stops or the page goes.
    let end_mix = move || {
        mix.try_update_value(|mix| *mix = None);
    };
    let toggle_recording = Callback::new(move |()| {
        if recording.get_untracked() {
            recorder.stop.run(());
            set_record_stream.set(None);
            return end_mix();
        }
        match call.recording_mix() {
            Some(made) => {
                set_recording_error.set(None);
                set_record_stream.set(Some(Clone::clone(&made.stream)));
                mix.set_value(Some(made));
                // After the recorder has seen the new stream (it stops on a change of stream).
                leptos::task::spawn_local(async move {
                    leptos::task::tick().await;
                    recorder.start.run(());
                });
            }
            None => set_recording_error.set(Some(
                "There is nothing to record until the other person is connected.".into(),
            )),
        }
    });
    let recorder_error = recorder.state;
    let recording_error = Signal::derive(move || match recorder_error.get() {
        RecorderState::Failed(why) => Some(why),
        _ => recording_error.get(),
    });
    on_cleanup(end_mix);
    let captions = use_captions();
    // Should the call become end-to-end encrypted (a new person joins with it on), or end,
    // whatever copies it out of the two devices stops at once (captions hold the microphone).
    Effect::new(move |_| {
        if copy_out_off.get().is_some() {
            if captions.active.get_untracked() {
                captions.stop.run(());
            }
            if recording.get_untracked() {
                toggle_recording.run(());
            }
        }
    });
    let mic_on = call.mic_on;

    let chat_messages = call.chat;
    let chat_view = move || {
        view! {
            <ChatPanel
                messages=chat_messages
                on_send=Callback::new(move |text: String| call.send_chat(text))
                open=chat_open
                on_close=Callback::new(move |()| {
                    set_chat_open.set(false);
                    call.chat_panel(false);
                })
            />
        }
    };

    // The timer runs from the first connection to the end of the call.
    let (started_at, set_started_at) = signal(None::<u64>);
    let (ended_at, set_ended_at) = signal(None::<u64>);
    Effect::new(move || match status.get() {
        CallStatus::Connected if started_at.get_untracked().is_none() => {
            set_started_at.set(Some(now_ms()))
        }
        CallStatus::Ended(_) if ended_at.get_untracked().is_none() => {
            set_ended_at.set(Some(now_ms()))
        }
        _ => {}
    });

    // Keyboard shortcuts, and the dialog that lists them.
    let (help_open, set_help_open) = signal(false);
    let (shortcuts_on, set_shortcuts_on) = signal(true);
    // The call is told too: a message that arrives while the chat is closed is a notice
    // until it opens.
    let toggle_chat = Callback::new(move |()| {
        set_chat_open.update(|o| *o = !*o);
        call.chat_panel(chat_open.get_untracked());
    });
    use_shortcuts(
        shortcuts_on.into(),
        Callback::new(move |shortcut| match shortcut {
            Shortcut::Microphone => call.toggle_mic(),
            Shortcut::Camera => call.toggle_camera(),
            Shortcut::ShareScreen => call.toggle_screen_share(),
            Shortcut::Chat => toggle_chat.run(()),
            Shortcut::Help => set_help_open.set(true),
        }),
    );
    let (transfer_open, set_transfer_open) = signal(false);
    // This tab consults someone about a held call: this call can hand it over, or go back.
    let held = crate::call_link::consulting();
    let held_here = held.is_some();
    let held_for_alerts = held.clone();
    let alerts = move || {
        let held = held_for_alerts.clone();
        view! { <CallAlerts call transfer_open set_transfer_open held /> }
    };
    view! {
        <CallScreen
            status=Signal::derive(status_text)
            status_hook=Signal::derive(status_hook)
            relay_hook=Signal::derive(move || match relay.get() {
                Presence::Reconnecting(_) => "reconnecting",
                Presence::Disconnected(_) => "disconnected",
                _ => "connected",
            })
            started_at
            ended_at
            quality=call.quality
            on_help=Callback::new(move |()| set_help_open.set(true))
            alerts
        >
            <CallLayout
                shield=shield
                health=call.health
                ended=call_over
                remote_video=call.remote_video
                self_view=call.self_view
                remote_screen=call.remote_screen
                remote_media=call.remote_media
                remote_announcement=call.remote_announcement
                chat=chat_view
            >
                <Controls
                    muted=Signal::derive(move || !mic_on.get())
                    on_toggle_mute=Callback::new(move |()| call.toggle_mic())
                    camera_on=call.camera_on
                    on_toggle_camera=Callback::new(move |()| call.toggle_camera())
                    sharing=call.sharing
                    on_toggle_share=Callback::new(move |()| call.toggle_screen_share())
                    chat_open=chat_open
                    on_toggle_chat=toggle_chat
                    on_hang_up=Callback::new(move |()| call.hang_up())
                    microphones=call.microphones
                    microphone=call.microphone
                    on_microphone=Callback::new(move |id| call.use_device(MediaKind::Audio, id))
                    cameras=call.cameras
                    camera=call.camera
                    on_camera=Callback::new(move |id| call.use_device(MediaKind::Video, id))
                    shortcuts=shortcuts_on
                >
                    <FeaturesMenu
                        off=copy_out_off
                        recording=recording
                        on_toggle_recording=toggle_recording
                        last_recording=recorder.last
                        recording_error=recording_error
                        captions=captions.active
                        on_toggle_captions=Callback::new(move |()| {
                            if captions.active.get_untracked() {
                                captions.stop.run(())
                            } else {
                                captions.start.run(())
                            }
                        })
                        captions_supported=captions.supported
                        captions_error=captions.error
                        on_move=Callback::new(move |()| call.move_to_another_device())
                        on_add=Callback::new(move |()| call.add_participant())
                        on_merge=Callback::new(move |()| call.merge())
                        on_park=Callback::new(move |()| call.park())
                        on_transfer=Callback::new(move |()| set_transfer_open.set(true))
                        on_consult=Callback::new(move |()| match held.clone() {
                            Some(path) => call.offer_transfer(path),
                            None => call.consult(),
                        })
                        consulting=held_here
                        group_off=call.relay_group_off
                        park_off=call.relay_park_off
                    />
                </Controls>
            </CallLayout>
            <Captions active=captions.active text=captions.text error=captions.error />
        </CallScreen>
        <ShortcutsHelp
            open=help_open
            on_close=Callback::new(move |()| set_help_open.set(false))
            enabled=shortcuts_on
            on_enable=Callback::new(move |on| set_shortcuts_on.set(on))
        />
    }
    .into_any()
}

/// What the person must know now, above the stage: the code under a warning (to compare the
/// mismatch), a warning seen earlier in the call, media that does not get through, notices.
#[component]
fn CallAlerts(
    call: CallHandle,
    transfer_open: ReadSignal<bool>,
    set_transfer_open: WriteSignal<bool>,
    held: Option<String>,
) -> impl IntoView {
    let offer = call.transfer_offer;
    let back = held.map(|path| {
        view! {
            <button
                type="button"
                data-action="return-to-held"
                on:click=move |_| {
                    call.hang_up();
                    crate::call_link::open_fresh(&path);
                }
            >
                "Return to the held call"
            </button>
        }
    });
    let (shield, code, warned_in_call) = (call.shield, call.code, call.warned_in_call);
    let (notices, media_problems) = (call.notices, call.media_problems);
    view! {
        {move || match (shield.get(), code.get()) {
            (ShieldState::Warning { .. }, Some(code)) => Some(view! {
                <p class="warning-code">
                    "Your security code, which will not match the other person's: "
                    <span data-security-code>{code.to_string()}</span>
                </p>
            }),
            _ => None,
        }}
        {move || {
            // Once the red shield has shown, the call keeps saying so, whatever the shield
            // shows later (someone new may have joined since).
            let reason = warned_in_call.get()?;
            let shown = matches!(shield.get(), ShieldState::Warning { .. });
            (!shown).then(|| view! {
                <p class="attack-seen" role="alert" data-attack-seen>
                    "A security problem was detected earlier in this call: "
                    {warning_text(reason)}
                </p>
            })
        }}
        {move || {
            let problems = media_problems.get();
            (!problems.is_empty()).then(|| view! {
                <ul class="media-problems" role="alert">
                    {problems
                        .into_iter()
                        .map(|text| view! { <li data-media-problem>{text}</li> })
                        .collect_view()}
                </ul>
            })
        }}
        <MoveLinkPanel
            link=call.move_link
            on_close=Callback::new(move |()| call.hide_move_link())
        />
        // The people first: their tiles stay in view above the add link.
        <GroupPanel group=call.group />
        <AddLinkPanel
            link=call.add_link
            on_close=Callback::new(move |()| call.hide_add_link())
        />
        <ParkedPanel parked=call.parked />
        {back}
        {move || offer.get().map(|path| view! {
            <button
                type="button"
                class="primary"
                data-action="join-transferred"
                on:click=move |_| crate::call_link::open_fresh(&path)
            >
                "Join the transferred call"
            </button>
        })}
        <TransferForm
            open=transfer_open
            on_submit=Callback::new(move |name| {
                set_transfer_open.set(false);
                call.transfer(name)
            })
            on_close=Callback::new(move |()| set_transfer_open.set(false))
        />
        <TransferLinkPanel
            link=call.transfer_link
            on_close=Callback::new(move |()| call.hide_transfer_link())
        />
        // Newest first, so that a new one is seen where the box starts.
        <ul class="notices" aria-live="polite">
            {move || notices.get().into_iter().rev().map(|n| view! { <li>{n}</li> }).collect_view()}
        </ul>
    }
}
