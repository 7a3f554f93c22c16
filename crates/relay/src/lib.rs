//! Shieldcall's signalling relay.
//!
//! WebSocket rooms of at most two at `/ws/{call_id}`. The relay tells each member about the
//! room (`joined`, `peer-joined`, `peer-left`, `full`, `error`, see
//! [`shieldcall_e2ee::messages::RelayEvent`]) and forwards every valid client
//! [`Signal`](shieldcall_e2ee::messages::Signal) verbatim to the other member. It never logs
//! message contents. With `--dist` it also serves the built app, so one process runs it all.
//!
//! Call ids are checked before the upgrade: anything but 22 base64url characters gets a plain
//! HTTP 400 and no WebSocket. So is the optional `?rejoin={token}` of a reconnection (see
//! [`rooms::RejoinToken`]).

pub mod config;
pub mod limit;
pub mod mitm;
pub mod rooms;
mod socket;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Path, RawQuery, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use shieldcall_e2ee::messages::MAX_SIGNAL_BYTES;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tracing::info;

pub use config::{Command, Config, USAGE};
pub use rooms::{RejoinToken, Relay};

/// Length of a call id: 16 random bytes in unpadded base64url.
pub const CALL_ID_LEN: usize = 22;

/// The WebSocket layer's own cap. Messages above [`MAX_SIGNAL_BYTES`] but below this get an
/// `error` and the socket lives on; above it the frame cannot be skipped, so the socket is closed
/// (1009) after an `error`.
pub const HARD_MESSAGE_CAP: usize = 4 * MAX_SIGNAL_BYTES;

/// How long shutdown waits for sockets to finish their closing handshakes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Whether `id` is a well-formed call id.
pub fn valid_call_id(id: &str) -> bool {
    id.len() == CALL_ID_LEN
        && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

#[derive(Clone)]
struct AppState {
    relay: Arc<Relay>,
    config: Arc<Config>,
}

/// The relay's routes, sharing `relay`.
pub fn router(relay: Arc<Relay>, config: Arc<Config>) -> Router {
    let state = AppState { relay, config: config.clone() };
    let app = Router::new()
        .route("/ws", get(bad_call_id))
        .route("/ws/", get(bad_call_id))
        .route("/ws/{*call_id}", get(ws_route))
        .with_state(state);
    match &config.dist {
        Some(dist) => app.fallback_service(
            ServeDir::new(dist).fallback(spa_fallback(dist.join("index.html")).into_service()),
        ),
        None => app.fallback(|| async {
            (StatusCode::NOT_FOUND, "not found (this relay serves no app: see --dist)\n")
        }),
    }
}

async fn bad_call_id() -> Response {
    (StatusCode::BAD_REQUEST, "invalid call id: expected 22 base64url characters\n").into_response()
}

async fn ws_route(
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // Checked before the upgrade, so a bad link never gets a socket.
    if !valid_call_id(&call_id) {
        return bad_call_id().await;
    }
    let rejoin =
        match query.as_deref().map(|q| q.strip_prefix("rejoin=").and_then(RejoinToken::parse)) {
            None => None,
            Some(Some(token)) => Some(token),
            Some(None) => {
                return (
                    StatusCode::BAD_REQUEST,
                    "invalid query: expected rejoin={22 base64url characters}\n",
                )
                    .into_response();
            }
        };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    ws.max_message_size(HARD_MESSAGE_CAP)
        .max_frame_size(HARD_MESSAGE_CAP)
        .on_upgrade(move |socket| socket::run(state.relay, state.config, call_id, rejoin, socket))
}

/// Unknown paths get the app's `index.html`, so client-side routes like `/call/<id>` load the
/// app; a missing file with an extension (`/x.wasm`) stays a 404, which is easier to debug than
/// HTML served as wasm.
fn spa_fallback(
    index: PathBuf,
) -> impl Fn(Uri) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |uri: Uri| {
        let index = index.clone();
        Box::pin(async move {
            let last = uri.path().rsplit('/').next().unwrap_or_default();
            if last.contains('.') {
                return (StatusCode::NOT_FOUND, "not found\n").into_response();
            }
            match tokio::fs::read_to_string(&index).await {
                Ok(html) => Html(html).into_response(),
                Err(_) => (StatusCode::NOT_FOUND, "no index.html in --dist\n").into_response(),
            }
        })
    }
}

/// Serve on `listener` until `shutdown` completes, then close every socket (1001) and wait
/// briefly for their closing handshakes.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let relay = Arc::new(Relay::default());
    let config = Arc::new(config);
    tokio::spawn(reap_idle_rooms(relay.clone(), config.idle_timeout));
    let app = router(relay.clone(), config);
    let stopping = relay.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            info!("shutting down");
            stopping.begin_shutdown();
        })
        .await?;
    // Upgraded sockets outlive the HTTP server; give them their closing handshake.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while relay.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Drop rooms that have been quiet for `idle`, checking a few times per period.
async fn reap_idle_rooms(relay: Arc<Relay>, idle: Duration) {
    let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(15));
    let mut stop = relay.shutdown_signal();
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = async { _ = stop.wait_for(|s| *s).await } => return,
            _ = tick.tick() => {
                for call in relay.reap_idle(idle, tokio::time::Instant::now()) {
                    info!(call, "room idle: dropped");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids() {
        assert!(valid_call_id("AZaz09-_AZaz09-_AZaz09"));
        assert!(!valid_call_id("AZaz09-_AZaz09-_AZaz0"));
        assert!(!valid_call_id("AZaz09-_AZaz09-_AZaz090"));
        assert!(!valid_call_id("AZaz09-_AZaz09-_AZaz0="));
        assert!(!valid_call_id("AZaz09-_AZaz09-_AZa/09"));
        assert!(!valid_call_id("AZaz09-_AZaz09-_AZaz0é"));
        assert!(!valid_call_id(""));
    }
}
