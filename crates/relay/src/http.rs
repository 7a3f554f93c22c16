//! The relay's HTTP/1 server: an accept loop of its own around hyper, because `axum::serve`
//! sets no timer (so a client that sends half a request head holds its connection, and
//! SIGTERM's graceful wait, for ever) and takes every connection it is offered.
//! - A request head must arrive within [`HEADER_READ_TIMEOUT`] (slowloris).
//! - At most `limits.total` are served at once, and `limits.per_client` from one client (an
//!   IPv6 /64; not counted for trusted proxies, whose clients are known only from the request);
//!   more are closed at once. A WebSocket's connection counts until its upgrade, then the
//!   relay's own socket caps take over.
//! - A request's body must arrive within [`BODY_READ_TIMEOUT`] (the router's layer, `lib.rs`).
//! - Once `stop` turns true, no connection is accepted, and those open are given
//!   [`GRACE`] to finish their request.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use tracing::{debug, warn};

use crate::limit::PerClient;

/// How long a client may take to send a request's head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's body (a pickup code: a few bytes).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Which connections are served.
pub struct Limits {
    /// At once, from everyone.
    pub total: usize,
    /// At once, from one client (a browser opens six or so for a page).
    pub per_client: usize,
    /// Proxies in front of the relay: their connections carry many clients.
    pub trusted_proxies: Vec<IpAddr>,
}

/// How long open connections get to finish once the relay stops.
const GRACE: Duration = Duration::from_secs(3);

/// Serve `app` on `listener` until `stop` is true, then wait (up to [`GRACE`]) for the
/// requests under way.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.total));
    let per_client = PerClient::default();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait for some to come back.
                    warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let slot = if limits.trusted_proxies.contains(&remote.ip()) {
            None
        } else {
            let Some(slot) = per_client.take(remote.ip(), limits.per_client) else {
                debug!("connection refused: this client holds as many as it may");
                continue;
            };
            Some(slot)
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            debug!("connection refused: the relay serves as many as it may");
            continue;
        };
        let app = app.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _held = (permit, slot);
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    // What axum's `ConnectInfo` extractor reads: the per-address caps need it.
                    request.extensions_mut().insert(ConnectInfo::<SocketAddr>(remote));
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(infallible(app.oneshot(request).await)) }
                });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(GRACE, connection).await;
                }
            }
        });
    }
    // New connections are refused at once, not left in the queue.
    drop(listener);
    // Every connection gives its permit back when it ends.
    let all = u32::try_from(limits.total).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(GRACE, permits.acquire_many(all)).await;
}

/// Once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// `Result<T, Infallible>` as `T`.
fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}
