//! Shieldcall's signalling relay.
//!
//! WebSocket rooms of at most two at `/ws/{call_id}`. The relay tells each member about the
//! room (`joined`, `peer-joined`, `peer-left`, `full`, `error`, see
//! [`shieldcall_protocol::RelayEvent`]) and forwards every valid client
//! [`Signal`](shieldcall_protocol::Signal) verbatim to the other member. It never logs message
//! contents. With `--dist` it also serves the built app, so one process runs it all. It links
//! the messages (`shieldcall-protocol`) and no cryptography of the calls.
//!
//! Before the upgrade, a socket must have a well-formed call id (22 base64url characters) and
//! no query, come from an allowed `Origin`, and fit under the caps on sockets in all and per
//! client address; otherwise a plain HTTP error and no WebSocket. Its first message is then
//! [`RelayRequest::Join`](shieldcall_protocol::RelayRequest), with the rejoin token of a
//! reconnection (see [`rooms::RejoinToken`]).
//!
//! Every HTTP response carries [`CONTENT_SECURITY_POLICY`] and `Referrer-Policy: no-referrer`.
//!
//! Rooms live in this process ([`rooms`]), or with `--cluster` in Redis, shared with other
//! relay processes ([`cluster`]). `/healthz` and `/metrics` are served on an address of their
//! own ([`metrics`]).

pub mod cli;
pub mod cluster;
pub mod config;
mod handover;
mod http;
pub mod limit;
pub mod metrics;
#[cfg(feature = "mitm")]
pub mod mitm;
pub mod park_seal;
pub mod rooms;
mod socket;
pub mod turn;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use shieldcall_protocol::MAX_SIGNAL_BYTES;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tracing::info;

pub use config::{Command, Config, USAGE};
pub use rooms::{Crowded, RejoinToken, Relay};

/// The page's Content-Security-Policy: only its own scripts (and its own wasm), its own
/// connections (the relay's WebSocket and `config.json`), no plugins, no `<base>`, no framing.
/// `img-src data:` is for the favicon, a `data:` URL in index.html. The app sets no inline
/// style and runs no inline script (Trunk.toml loads it through `boot.js`); the media worker
/// is a same-origin script, so `script-src` covers it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data:; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Length of a call id: 16 random bytes in unpadded base64url.
pub const CALL_ID_LEN: usize = 22;

/// The WebSocket layer's own cap. Messages above [`MAX_SIGNAL_BYTES`] but below this get an
/// `error` and the socket lives on; above it the frame cannot be skipped, so the socket is closed
/// (1009), without an `error`.
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
        .route("/pickup", post(handover::pickup_route))
        // A body sent a byte at a time holds its connection no longer than a head may.
        .layer(RequestBodyTimeoutLayer::new(http::BODY_READ_TIMEOUT))
        .with_state(state);
    let app = match &config.dist {
        // The app's wasm, JS and CSS as `make dist` compressed them (scripts/precompress.mjs),
        // to a browser that accepts brotli or gzip: the app's wasm crosses at a third of its size.
        Some(dist) => {
            let files = ServeDir::new(dist)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(spa_fallback(dist.join("index.html")).into_service());
            let files = Router::new()
                .fallback_service(files)
                .layer(axum::middleware::from_fn(file_headers));
            app.fallback_service(files)
        }
        None => app.fallback(|| async {
            (StatusCode::NOT_FOUND, "not found (this relay serves no app: see --dist)\n")
        }),
    };
    app.layer(axum::middleware::map_response(strict_page))
}

/// Every response, of the app's files as of anything else, gets the policy.
async fn strict_page(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// How long the browser may keep one of the app's files ([`cache_control`]), and that its bytes
/// depend on the request's Accept-Encoding: a cache between the relay and the browser must not
/// hand one browser's brotli to another that asked for none.
async fn file_headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let cache = cache_control(&path, response.status());
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// A build output whose name carries its content's hash (Trunk's `boot-<hash>.js`,
/// `shieldcall-<hash>_bg.wasm`) never changes: kept for a year without asking again. Anything
/// else (the page, which names the current hashes, `config.json`, the worker's unhashed
/// files) is checked with the relay on every load (a 304 when unchanged), so that a new
/// release or a new policy is seen at once, never a page naming files a release removed.
pub fn cache_control(path: &str, status: StatusCode) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    // Only the build's own kinds of file: a page path that happens to end the same way (a call
    // id may) gets index.html, which must never be kept.
    let built = [".js", ".wasm", ".css"].iter().any(|kind| name.ends_with(kind));
    let stem = name.split(['.', '_']).next().unwrap_or_default();
    let hashed = stem
        .rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
    // A 304's headers replace the kept ones: it keeps the year too.
    let found = status.is_success() || status == StatusCode::NOT_MODIFIED;
    if built && hashed && found { "public, max-age=31536000, immutable" } else { "no-cache" }
}

async fn bad_call_id() -> Response {
    (StatusCode::BAD_REQUEST, "invalid call id: expected 22 base64url characters\n").into_response()
}

async fn ws_route(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(call_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // Checked before the upgrade, so a bad link never gets a socket.
    if !valid_call_id(&call_id) {
        return bad_call_id().await;
    }
    // A token in the URL would end up in access logs; it goes in the first message instead.
    if query.is_some() {
        return (
            StatusCode::BAD_REQUEST,
            "the WebSocket URL takes no query: send {\"t\":\"join\",\"rejoin\":...} first\n",
        )
            .into_response();
    }
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return (StatusCode::FORBIDDEN, "pages of this origin may not use this relay\n")
            .into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let ip = client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let guard = match state.relay.admit(ip) {
        Ok(guard) => guard,
        Err(Crowded::Relay) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "the relay is full: try again later\n")
                .into_response();
        }
        Err(Crowded::Address) => {
            return (StatusCode::TOO_MANY_REQUESTS, "too many connections from this address\n")
                .into_response();
        }
    };
    sized(ws).on_upgrade(move |socket| {
        socket::run(state.relay, state.config, call_id, ip, guard, socket)
    })
}

/// The address a socket is counted against: the connection's, unless it comes from one of
/// `trusted` proxies, whose `X-Forwarded-For` then names the client. Read from the right: each
/// proxy appends the address it saw, so the rightmost entry not itself a trusted proxy is the
/// first one a trusted proxy vouches for; anything left of it the client could have written.
/// An unreadable header counts as the proxy's own address.
pub fn client_ip(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|h| h.to_str().unwrap_or_default().split(','))
        .map(|hop| hop.trim().parse::<std::net::IpAddr>())
        .collect::<Vec<_>>();
    while let Some(hop) = hops.pop() {
        match hop {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

/// How much a socket reads from the kernel at once, and the size its read buffer starts at.
/// Chosen, not defaulted: tungstenite's default (128 KiB, fully written into at the first read)
/// would cost 12.8 GB for 100,000 sockets that hold a call open and say nothing. 4 KiB takes a
/// `join` or an ICE candidate in one read and a typical offer (3 to 10 KB) in two or three; a
/// larger frame is not cut off by it, the buffer grows to the frame's length (at most
/// [`HARD_MESSAGE_CAP`]) when its header arrives. See "Capacity" in the README.
pub const READ_BUFFER_SIZE: usize = 4 * 1024;

/// Bytes a socket collects before writing to the kernel: none. The relay awaits every send to
/// its flush anyway (one message at a time, see `socket.rs`), so a collecting buffer would only
/// add latency and, at tungstenite's default of 128 KiB, memory.
pub const WRITE_BUFFER_SIZE: usize = 0;

/// The most a socket's write buffer may hold: what the kernel has not taken yet of the one
/// message being sent, plus a control frame (a pong or a close). Never reached by the relay's
/// own messages (at most [`MAX_SIGNAL_BYTES`] forwarded, or a short event); a backstop at the
/// hard cap so a bug can never buffer without bound (the default is unlimited). A full buffer
/// fails the send, which drops the socket.
pub const MAX_WRITE_BUFFER_SIZE: usize = HARD_MESSAGE_CAP;

/// The WebSocket settings of every relay socket, each chosen (see the constants above). The
/// message and frame caps are [`HARD_MESSAGE_CAP`] rather than [`MAX_SIGNAL_BYTES`], so that a
/// message a little over the limit gets an `error` and the socket lives on.
fn sized<F>(ws: WebSocketUpgrade<F>) -> WebSocketUpgrade<F> {
    ws.read_buffer_size(READ_BUFFER_SIZE)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        .max_write_buffer_size(MAX_WRITE_BUFFER_SIZE)
        .max_message_size(HARD_MESSAGE_CAP)
        .max_frame_size(HARD_MESSAGE_CAP)
}

/// Whether a socket with these request headers may open. Browsers always send `Origin` on a
/// WebSocket, so a page of another site cannot open one into a call; a request without it is no
/// browser page (a test client, or `trunk serve` 0.21's proxy, which opens its own connection),
/// and could put any `Origin` it liked anyway. Accepted: the relay's own origin (same host and
/// port as `Host`, which a page's browser sets to the address it loaded the page from, or as
/// `X-Forwarded-Host`, where a proxy in front, like `trunk serve` 0.22's, keeps that address;
/// a page cannot set either header on a WebSocket) and those of `--allow-origin`.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Some(origin) = origin.to_str().ok().and_then(config::parse_origin) else { return false };
    if allowed.contains(&origin) {
        return true;
    }
    // Compare authorities the way parse_origin spells them (no default port, lower case).
    let (scheme, _) = origin.split_once("://").unwrap_or_default();
    let own = |name: &str| {
        headers.get_all(name).iter().filter_map(|h| h.to_str().ok()).any(|host| {
            config::parse_origin(&format!("{scheme}://{host}")).is_some_and(|own| own == origin)
        })
    };
    own(header::HOST.as_str()) || own("x-forwarded-host")
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
    serve_with_metrics(listener, None, config, shutdown).await
}

/// [`serve`], and `/healthz` and `/metrics` on `metrics` if given (see [`metrics`]).
pub async fn serve_with_metrics(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let relay = Arc::new(Relay::new(&config));
    if let Some(cluster) = relay.cluster() {
        tokio::spawn(cluster.clone().run_subscriber(relay.shutdown_signal()));
        tokio::spawn(cluster.clone().run_renewer(relay.shutdown_signal()));
    }
    if let Some(listener) = metrics {
        // Until the process ends, so that /healthz says 503 through the shutdown.
        tokio::spawn(axum::serve(listener, metrics::router(relay.clone())).into_future());
    }
    let config = Arc::new(config);
    tokio::spawn(reap_idle_rooms(relay.clone(), config.idle_timeout));
    tokio::spawn(end_parks(relay.clone()));
    // As many HTTP connections at once as sockets, in all and per client.
    let limits = http::Limits {
        total: config.max_sockets.max(1024),
        per_client: config.max_sockets_per_ip,
        trusted_proxies: config.trusted_proxies.clone(),
    };
    let app = router(relay.clone(), config);
    let stopping = relay.clone();
    tokio::spawn(async move {
        shutdown.await;
        info!("shutting down");
        stopping.begin_shutdown();
    });
    http::serve(listener, app, limits, relay.shutdown_signal()).await;
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

/// End parked places whose time ran out, checking twice a second (a park's end is said to the
/// other person, so it should come on time).
async fn end_parks(relay: Arc<Relay>) {
    let mut stop = relay.shutdown_signal();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = async { _ = stop.wait_for(|s| *s).await } => return,
            _ = tick.tick() => {
                for call in relay.end_parks(tokio::time::Instant::now()) {
                    info!(call, "parked place not picked up in time: ended");
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

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn client_addresses_come_from_trusted_proxies_only() {
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let client: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        let with = |xff: &[&str]| {
            let mut h = HeaderMap::new();
            for v in xff {
                h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
            }
            h
        };
        let trusted = [proxy];
        // Not from the proxy: the header is the client's to forge, so it is ignored.
        assert_eq!(client_ip(client, &with(&["198.51.100.1"]), &trusted), client);
        // From the proxy: the rightmost address, whatever the client wrote to its left.
        let h = with(&["198.51.100.1, 203.0.113.7"]);
        assert_eq!(client_ip(proxy, &h, &trusted), client);
        assert_eq!(client_ip(proxy, &with(&["1.2.3.4", "203.0.113.7"]), &trusted), client);
        // Trusted hops are skipped; garbage, or no header, counts as the proxy itself.
        assert_eq!(client_ip(proxy, &with(&["203.0.113.7, 10.0.0.2"]), &trusted), client);
        assert_eq!(client_ip(proxy, &with(&["1.2.3.4, junk"]), &trusted), proxy);
        assert_eq!(client_ip(proxy, &with(&[]), &trusted), proxy);
    }

    #[test]
    fn origins() {
        let none: &[String] = &[];
        let listed = ["https://app.example.org".to_string()];
        // Its own pages, as served by the relay (any scheme: TLS may end in front of it).
        assert!(origin_allowed(&headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"), none));
        assert!(origin_allowed(
            &headers(Some("https://Call.example.org"), "call.example.org:443"),
            none
        ));
        // No Origin: no browser page.
        assert!(origin_allowed(&headers(None, "127.0.0.1:8081"), none));
        // Through a proxy that keeps the page's address (trunk serve 0.22: Host is the relay's).
        let mut proxied = headers(Some("http://127.0.0.1:8080"), "127.0.0.1");
        assert!(!origin_allowed(&proxied, none));
        proxied.insert("x-forwarded-host", HeaderValue::from_static("127.0.0.1:8080"));
        assert!(origin_allowed(&proxied, none));
        // Another site, another port, or something unreadable: refused.
        assert!(!origin_allowed(&headers(Some("https://evil.example"), "call.example.org"), none));
        assert!(!origin_allowed(&headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8081"), none));
        assert!(!origin_allowed(&headers(Some("null"), "127.0.0.1:8081"), none));
        // Unless listed.
        assert!(origin_allowed(
            &headers(Some("https://app.example.org"), "relay.example.org"),
            &listed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://app.example.org"), "relay.example.org"),
            &listed
        ));
    }
}
