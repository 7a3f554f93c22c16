//! The app's configuration, `config.json`, served beside the app: ICE servers and the
//! organisation's end-to-end encryption policy. Parsing only; the app fetches the file.
//!
//! ```json
//! {"iceServers": [{"urls": "stun:stun.example.org"}], "policy": {"e2eeAllowed": true}}
//! ```

use serde::Deserialize;

/// One ICE server, as in `RTCIceServer`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct IceServer {
    /// One URL or several (`stun:`, `turn:`, `turns:`).
    #[serde(deserialize_with = "one_or_many")]
    pub urls: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub credential: Option<String>,
}

/// What `config.json` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppConfig {
    pub ice_servers: Vec<IceServer>,
    /// Whether the organisation allows end-to-end encrypted calls.
    pub e2ee_allowed: bool,
}

impl Default for AppConfig {
    /// No ICE servers (host candidates only), E2EE allowed.
    fn default() -> Self {
        AppConfig { ice_servers: Vec::new(), e2ee_allowed: true }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    ice_servers: Vec<IceServer>,
    #[serde(default)]
    policy: RawPolicy,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPolicy {
    #[serde(default = "allowed")]
    e2ee_allowed: bool,
}

impl Default for RawPolicy {
    fn default() -> Self {
        RawPolicy { e2ee_allowed: true }
    }
}

fn allowed() -> bool {
    true
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Urls {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Urls::deserialize(d)? {
        Urls::One(url) => vec![url],
        Urls::Many(urls) => urls,
    })
}

impl AppConfig {
    /// Parse the text of `config.json`. Missing fields take their defaults; a wrong shape is an
    /// error.
    pub fn from_json(text: &str) -> Result<AppConfig, serde_json::Error> {
        let raw: RawConfig = serde_json::from_str(text)?;
        Ok(AppConfig { ice_servers: raw.ice_servers, e2ee_allowed: raw.policy.e2ee_allowed })
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
    fn a_wrong_shape_is_an_error() {
        assert!(AppConfig::from_json(r#"{"iceServers": 3}"#).is_err());
        assert!(AppConfig::from_json(r#"{"iceServers": [{"urls": 3}]}"#).is_err());
        assert!(AppConfig::from_json(r#"{"iceServers": [{"username": "u"}]}"#).is_err(), "no urls");
        assert!(AppConfig::from_json(r#"{"policy": {"e2eeAllowed": "no"}}"#).is_err());
        assert!(AppConfig::from_json("not json").is_err());
        assert!(AppConfig::from_json("").is_err());
    }
}
