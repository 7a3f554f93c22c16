//! The app's configuration, `config.json`, served beside the app: ICE servers, the ICE
//! transport policy and the organisation's end-to-end encryption policy. Parsing, and what a
//! peer connection is made with ([`IceSettings`]); the app fetches the file.
//!
//! ```json
//! {"iceServers": [{"urls": "stun:stun.example.org"}], "iceTransportPolicy": "all",
//!  "policy": {"e2eeAllowed": true}}
//! ```

use shieldcall_protocol::TurnCredentials;
use shieldcall_protocol::json::{self, FromJson, Json, JsonError, Object};

/// One ICE server, as in `RTCIceServer`.
#[derive(Clone, PartialEq, Eq)]
pub struct IceServer {
    /// One URL or several (`stun:`, `turn:`, `turns:`).
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

impl std::fmt::Debug for IceServer {
    /// Without the credential: a TURN credential lets anyone relay through the server.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("credential", &self.credential.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Which ICE candidates a connection may use, as `RTCIceTransportPolicy`: `relay` keeps
/// people's IP addresses from each other (media goes only through a TURN server).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IceTransportPolicy {
    #[default]
    All,
    Relay,
}

impl IceTransportPolicy {
    /// The `RTCConfiguration.iceTransportPolicy` value.
    pub fn as_str(self) -> &'static str {
        match self {
            IceTransportPolicy::All => "all",
            IceTransportPolicy::Relay => "relay",
        }
    }
}

/// What one peer connection is made with: `RTCConfiguration`'s `iceServers` and
/// `iceTransportPolicy`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceSettings {
    pub servers: Vec<IceServer>,
    pub policy: IceTransportPolicy,
}

impl IceSettings {
    /// These settings with the TURN servers and credentials the relay handed this place, if
    /// any, after config.json's own servers.
    pub fn with_turn(&self, turn: Option<&TurnCredentials>) -> IceSettings {
        let mut settings = self.clone();
        if let Some(turn) = turn.filter(|t| !t.urls.is_empty()) {
            settings.servers.push(IceServer {
                urls: turn.urls.clone(),
                username: Some(turn.username.clone()),
                credential: Some(turn.credential.clone()),
            });
        }
        settings
    }
}

/// What `config.json` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConfig {
    pub ice_servers: Vec<IceServer>,
    /// Which candidates connections may use (default: all).
    pub ice_transport_policy: IceTransportPolicy,
    /// Whether the organisation allows end-to-end encrypted calls.
    pub e2ee_allowed: bool,
}

impl Default for AppConfig {
    /// No ICE servers (host candidates only), E2EE allowed.
    fn default() -> Self {
        AppConfig {
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            e2ee_allowed: true,
        }
    }
}

// Read by hand from `shieldcall_protocol::json`, as the relay's messages are: members this
// does not know are ignored (a newer file, or RTCIceServer's other members), a known one of
// the wrong shape makes the file malformed.

impl FromJson for IceServer {
    fn from_json(json: Json) -> Option<Self> {
        let mut f = Object::from_json(json)?;
        // One URL as a string, or several as a list.
        let urls = match f.take("urls")? {
            Json::String(url) => vec![url],
            many => Vec::from_json(many)?,
        };
        Some(IceServer {
            urls,
            username: f.optional("username")?,
            credential: f.optional("credential")?,
        })
    }
}

impl FromJson for IceTransportPolicy {
    fn from_json(json: Json) -> Option<Self> {
        match String::from_json(json)?.as_str() {
            "all" => Some(IceTransportPolicy::All),
            "relay" => Some(IceTransportPolicy::Relay),
            _ => None,
        }
    }
}

impl FromJson for AppConfig {
    fn from_json(json: Json) -> Option<Self> {
        let mut f = Object::from_json(json)?;
        let mut policy = f.defaulted("policy", Object::default())?;
        Some(AppConfig {
            ice_servers: f.defaulted("iceServers", Vec::new())?,
            ice_transport_policy: f.defaulted("iceTransportPolicy", IceTransportPolicy::All)?,
            e2ee_allowed: policy.defaulted("e2eeAllowed", true)?,
        })
    }
}

impl AppConfig {
    /// Parse the text of `config.json`. Missing fields take their defaults; a wrong shape is an
    /// error.
    pub fn from_json(text: &str) -> Result<AppConfig, JsonError> {
        json::decode(text)
    }

    /// config.json's part of what every connection is made with (the relay's TURN servers are
    /// added per connection: [`IceSettings::with_turn`]).
    pub fn ice_settings(&self) -> IceSettings {
        IceSettings { servers: self.ice_servers.clone(), policy: self.ice_transport_policy }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_gives_its_servers_and_policy() {
        let full = AppConfig::from_json(
            r#"{"iceServers": [{"urls": "stun:stun.example.org"},
                {"urls": ["turn:t.example.org", "turns:t.example.org"], "username": "u", "credential": "c"}],
                "policy": {"e2eeAllowed": false}}"#,
        )
        .unwrap();
        assert!(!full.e2ee_allowed);
        assert_eq!(full.ice_servers.len(), 2);
        assert_eq!(
            full.ice_servers[0],
            IceServer {
                urls: vec!["stun:stun.example.org".into()],
                username: None,
                credential: None
            },
            "one URL as a string"
        );
        assert_eq!(
            full.ice_servers[1],
            IceServer {
                urls: vec!["turn:t.example.org".into(), "turns:t.example.org".into()],
                username: Some("u".into()),
                credential: Some("c".into()),
            },
            "several URLs as a list, with credentials"
        );
    }

    #[test]
    fn missing_fields_take_the_defaults() {
        assert!(AppConfig::default().e2ee_allowed && AppConfig::default().ice_servers.is_empty());
        assert_eq!(AppConfig::from_json("{}").unwrap(), AppConfig::default());
        assert_eq!(AppConfig::from_json(r#"{"policy": {}}"#).unwrap(), AppConfig::default());
        let servers_only = AppConfig::from_json(r#"{"iceServers": [{"urls": "stun:s"}]}"#).unwrap();
        assert!(servers_only.e2ee_allowed, "no policy: E2EE allowed");
        let policy_only = AppConfig::from_json(r#"{"policy": {"e2eeAllowed": false}}"#).unwrap();
        assert!(!policy_only.e2ee_allowed && policy_only.ice_servers.is_empty());
    }

    #[test]
    fn the_transport_policy_and_the_relays_turn_servers() {
        assert_eq!(AppConfig::default().ice_transport_policy, IceTransportPolicy::All);
        let relay_only = AppConfig::from_json(
            r#"{"iceServers": [{"urls": "stun:s"}], "iceTransportPolicy": "relay"}"#,
        )
        .unwrap();
        assert_eq!(relay_only.ice_transport_policy, IceTransportPolicy::Relay);
        assert_eq!(IceTransportPolicy::Relay.as_str(), "relay");
        let all = AppConfig::from_json(r#"{"iceTransportPolicy": "all"}"#).unwrap();
        assert_eq!(all.ice_transport_policy.as_str(), "all");
        assert!(AppConfig::from_json(r#"{"iceTransportPolicy": "none"}"#).is_err());
        assert!(AppConfig::from_json(r#"{"iceTransportPolicy": "Relay"}"#).is_err());

        let turn = TurnCredentials {
            urls: vec!["turn:t.example.org:3478".into()],
            username: "1700003600:abc".into(),
            credential: "c2VjcmV0".into(),
            ttl: 3600,
        };
        let base = relay_only.ice_settings();
        assert_eq!(base.with_turn(None), base, "no TURN from the relay: config.json's alone");
        let merged = base.with_turn(Some(&turn));
        assert_eq!(merged.policy, IceTransportPolicy::Relay);
        assert_eq!(merged.servers.len(), 2);
        assert_eq!(merged.servers[0], relay_only.ice_servers[0], "config.json's first");
        assert_eq!(
            merged.servers[1],
            IceServer {
                urls: turn.urls.clone(),
                username: Some(turn.username.clone()),
                credential: Some(turn.credential.clone()),
            }
        );
        let debug = format!("{merged:?}");
        assert!(!debug.contains("c2VjcmV0") && debug.contains("abc"), "{debug}");
        let no_urls = TurnCredentials { urls: Vec::new(), ..turn };
        assert_eq!(base.with_turn(Some(&no_urls)), base);
    }

    #[test]
    fn a_wrong_shape_is_an_error() {
        assert!(AppConfig::from_json(r#"{"iceServers": 3}"#).is_err());
        assert!(AppConfig::from_json(r#"{"iceServers": [{"urls": 3}]}"#).is_err());
        assert!(AppConfig::from_json(r#"{"iceServers": [{"username": "u"}]}"#).is_err(), "no urls");
        assert!(AppConfig::from_json(r#"{"policy": {"e2eeAllowed": "no"}}"#).is_err());
        assert!(AppConfig::from_json("not json").is_err());
        assert!(AppConfig::from_json(r#"{"iceServers": null}"#).is_err(), "null is no list");
    }

    #[test]
    fn members_it_does_not_know_are_ignored() {
        let text = r#"{"iceServers": [{"urls": "turn:t", "username": "u", "credential": "c",
            "credentialType": "password"}], "future": {"x": 1}, "policy": {"e2eeAllowed": false,
            "other": true}}"#;
        let config = AppConfig::from_json(text).unwrap();
        assert!(!config.e2ee_allowed);
        assert_eq!(config.ice_servers[0].urls, ["turn:t"]);
        assert_eq!(config.ice_servers[0].credential.as_deref(), Some("c"));
        assert!(AppConfig::from_json("").is_err());
    }
}
