//! One page per file.

mod call;
mod home;
mod not_found;
mod pickup;
mod settings;

pub use call::Call;
pub use home::Home;
pub use not_found::NotFound;
pub use settings::{POLICY_DISABLED, Settings, SettingsPage};
