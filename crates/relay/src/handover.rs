//! The relay's side of parking and transferring a place: a member's requests on its socket,
//! and `POST /pickup`, which finds a parked place by the relay's half of its pickup code. The
//! rules of the rooms are in `rooms::handover`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ws::Message;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use shieldcall_protocol::{
    MAX_DEPOSIT, MoveRefusal, MoveToken, PickupAnswer, RefusedRequest, RelayEvent, RelayRequest,
    valid_transfer_name,
};
use tokio::time::Instant;
use tracing::{debug, info};

use crate::rooms::{Membership, Refused, Relay, short};
use crate::socket::{CLUSTER_DOWN, error, refusal, text};

/// The answer to a park or transfer request: the token (and code), or why there is none.
/// Every refusal names the request, so that the page can tell the person which of theirs did
/// not happen.
pub(crate) async fn answer(
    relay: &Relay,
    call_id: &str,
    member: &Membership,
    request: RelayRequest,
) -> Message {
    match request {
        RelayRequest::Park { deposit } => park(relay, call_id, member, deposit).await,
        RelayRequest::Transfer { name } => transfer(relay, call_id, member, name).await,
        // The caller sends only parks and transfers.
        _ => error("not a park or transfer request"),
    }
}

/// A cluster parks only with a secret its nodes share (`--cluster-secret-file`): a park's
/// record in Redis is sealed with it (`park_seal.rs`).
const NO_PARKING_HERE: &str = "parking a call is not available on this relay";

async fn park(relay: &Relay, call_id: &str, member: &Membership, deposit: String) -> Message {
    let refuse = |reason: &str| refusal(RefusedRequest::Park, reason);
    if relay.cluster().is_some_and(|cluster| !cluster.parks()) {
        return refuse(NO_PARKING_HERE);
    }
    if deposit.is_empty()
        || deposit.len() > MAX_DEPOSIT
        || !deposit.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return refuse("invalid park deposit: expected at most 512 base64url characters");
    }
    let parked = match relay.cluster() {
        Some(cluster) => match cluster.park(call_id, member.id, relay.park_ttl(), deposit).await {
            Ok(parked) => parked,
            Err(_) => return refuse(CLUSTER_DOWN),
        },
        None => relay.park(call_id, member.id, deposit, Instant::now()),
    };
    match parked {
        // Neither the token nor the code reaches the log.
        Some((token, code)) => {
            info!(call = short(call_id), "place parked");
            let ttl = relay.park_ttl_secs();
            text(RelayEvent::Parked { token: MoveToken(token.to_text()), code, ttl })
        }
        None => refuse("this place is no longer yours: it cannot be parked"),
    }
}

async fn transfer(relay: &Relay, call_id: &str, member: &Membership, name: String) -> Message {
    let refuse = |reason: &str| refusal(RefusedRequest::Transfer, reason);
    if !valid_transfer_name(&name) {
        return refuse("invalid transfer name: 1 to 40 characters, without control characters");
    }
    let issued = match relay.cluster() {
        Some(cluster) => match cluster.issue_move(member.id, relay.move_ttl(), Some(&name)).await {
            Ok(issued) => issued,
            Err(_) => return refuse(CLUSTER_DOWN),
        },
        None => relay.issue_transfer(call_id, member.id, name, Instant::now()),
    };
    match issued {
        Some(token) => {
            debug!(call = short(call_id), "transfer token issued");
            let ttl = relay.move_ttl_secs();
            text(RelayEvent::TransferToken { token: MoveToken(token.to_text()), ttl })
        }
        None => refuse("this place is no longer yours: it cannot be transferred"),
    }
}

/// `POST /pickup` with the relay's half of a pickup code as the body: 200 with the call, the
/// token and the deposit; 404 (unknown) or 410 (used, expired) with the reason. The code is
/// in the body, never the URL, so that no access log keeps it.
/// A client that tried too many codes this minute ([`crate::rooms::PICKUPS_PER_MINUTE`], on a
/// cluster across its nodes) gets 429 and no answer; a cluster node that cannot reach Redis,
/// 503.
pub(crate) async fn pickup_route(
    State(state): State<crate::AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let ip = crate::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let answer = match find_pickup(&state.relay, ip, &body).await {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            info!("pickup codes tried too often from one address");
            return (StatusCode::TOO_MANY_REQUESTS, "too many pickup codes tried: wait a minute\n")
                .into_response();
        }
        Err(_) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("{CLUSTER_DOWN}\n")).into_response();
        }
    };
    let status = match &answer {
        PickupAnswer::Found { .. } => StatusCode::OK,
        PickupAnswer::Refused { reason: MoveRefusal::Unknown } => StatusCode::NOT_FOUND,
        PickupAnswer::Refused { .. } => StatusCode::GONE,
    };
    if let PickupAnswer::Refused { reason } = &answer {
        info!(reason = ?reason, "pickup code refused");
    }
    pickup_response(status, &answer)
}

/// What the pickup code `body` finds: on one relay, or through the cluster when its nodes
/// park (a cluster that parks nothing has nothing to find, and counts tries per node); `None`
/// when `ip` has tried too many codes this minute.
async fn find_pickup(
    relay: &Relay,
    ip: IpAddr,
    body: &str,
) -> Result<Option<PickupAnswer>, Refused> {
    let parking = relay.cluster().filter(|cluster| cluster.parks());
    let allowed = match parking {
        Some(cluster) => cluster.allow_pickup(ip).await?,
        None => relay.allow_pickup(ip),
    };
    if !allowed {
        return Ok(None);
    }
    Ok(Some(match parking {
        _ if body.len() > 64 => PickupAnswer::Refused { reason: MoveRefusal::Unknown },
        Some(cluster) => cluster.pickup(body).await?,
        None => relay.pickup(body, Instant::now()),
    }))
}

/// `answer` as JSON, never cached: the token and the deposit are for this one reader.
fn pickup_response(status: StatusCode, answer: &PickupAnswer) -> Response {
    use axum::http::{HeaderValue, header};
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (status, headers, answer.to_json()).into_response()
}
