//! Small group calls (transport-only, up to four people): what the relay tells the members of
//! a room that was opened to more than two ([`GroupEvent`]). The requests that go with them
//! (`open-group`, and a signal addressed `to` one member) are [`crate::RelayRequest`]s.
//!
//! In a group every member has an id from the relay, small and stable for its place (a rejoin
//! keeps it). Signals travel addressed: a member sends `{"t":"to","to":ID,"s":SIGNAL}`, the
//! addressee gets `{"t":"from","from":ID,"s":SIGNAL}` with the sender's id as the relay knows
//! it, never one the sender claimed. A room of two that was never opened speaks as before.

use crate::Signal;
use crate::json::{FromJson, Json, Object, ObjectWriter};

/// Members a group call holds at most (the relay enforces it).
pub const MAX_GROUP: usize = 4;

/// A member's id in a group: the relay's, for the life of the place.
pub type MemberId = u32;

/// What the relay tells members of a room opened to a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEvent {
    /// The room is a group: `me` is this member's id, `members` everyone's (`me` included),
    /// earliest first. Sent to every member when the room opens, and to a member joining an
    /// open room before its `joined`.
    Group { me: MemberId, members: Vec<MemberId> },
    /// Someone took a place in the group (or took theirs back after a lost connection).
    MemberJoined { id: MemberId },
    /// That member left or lost their connection.
    MemberLeft { id: MemberId },
    /// A signal from member `from` (set by the relay) to this member.
    From { from: MemberId, s: Signal },
    /// The group already holds `max` people; this socket is closed next.
    GroupFull { max: u8 },
}

impl GroupEvent {
    /// The JSON text of this event.
    pub fn to_json(&self) -> String {
        let tagged = ObjectWriter::tagged;
        match self {
            GroupEvent::Group { me, members } => tagged("group")
                .number("me", u64::from(*me))
                .numbers("members", members.iter().map(|&m| u64::from(m)))
                .finish(),
            GroupEvent::MemberJoined { id } => {
                tagged("member-joined").number("id", u64::from(*id)).finish()
            }
            GroupEvent::MemberLeft { id } => {
                tagged("member-left").number("id", u64::from(*id)).finish()
            }
            GroupEvent::From { from, s } => {
                tagged("from").number("from", u64::from(*from)).json("s", &s.to_json()).finish()
            }
            GroupEvent::GroupFull { max } => {
                tagged("group-full").number("max", u64::from(*max)).finish()
            }
        }
    }

    /// The event tagged `tag`, its fields taken from `f`; `None` (with `f` untouched) when no
    /// group event has that tag.
    pub(crate) fn from_tag(tag: &str, f: &mut Object) -> Option<Self> {
        Some(match tag {
            "group" => GroupEvent::Group { me: f.required("me")?, members: f.required("members")? },
            "member-joined" => GroupEvent::MemberJoined { id: f.required("id")? },
            "member-left" => GroupEvent::MemberLeft { id: f.required("id")? },
            "from" => GroupEvent::From { from: f.required("from")?, s: f.required("s")? },
            "group-full" => GroupEvent::GroupFull { max: f.required("max")? },
            _ => return None,
        })
    }
}

impl FromJson for GroupEvent {
    fn from_json(json: Json) -> Option<Self> {
        Object::read_tagged(json, GroupEvent::from_tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Inbound, RelayRequest, SignalError};

    #[test]
    fn group_messages_have_their_wire_names() {
        let open = RelayRequest::OpenGroup {};
        assert_eq!(open.to_json(), r#"{"t":"open-group"}"#);
        let to = RelayRequest::To { to: 3, s: Signal::Bye { mac: None } };
        assert_eq!(to.to_json(), r#"{"t":"to","to":3,"s":{"t":"bye"}}"#);
        assert_eq!(RelayRequest::parse(&to.to_json()), Ok(to));
        let group = GroupEvent::Group { me: 2, members: vec![1, 2] };
        assert_eq!(group.to_json(), r#"{"t":"group","me":2,"members":[1,2]}"#);
        assert_eq!(Inbound::parse(&group.to_json()), Ok(Inbound::Group(group)));
        let from = GroupEvent::From { from: 1, s: Signal::Bye { mac: None } };
        assert_eq!(from.to_json(), r#"{"t":"from","from":1,"s":{"t":"bye"}}"#);
        assert_eq!(Inbound::parse(&from.to_json()), Ok(Inbound::Group(from)));
        assert_eq!(GroupEvent::MemberJoined { id: 3 }.to_json(), r#"{"t":"member-joined","id":3}"#);
        assert_eq!(GroupEvent::MemberLeft { id: 3 }.to_json(), r#"{"t":"member-left","id":3}"#);
        assert_eq!(GroupEvent::GroupFull { max: 4 }.to_json(), r#"{"t":"group-full","max":4}"#);
    }

    #[test]
    fn a_member_cannot_pass_as_the_relay_or_address_garbage() {
        // What the relay says about the group is no signal a member could send.
        for text in [
            r#"{"t":"from","from":1,"s":{"t":"bye"}}"#,
            r#"{"t":"group","me":1,"members":[1]}"#,
            r#"{"t":"member-left","id":1}"#,
        ] {
            assert_eq!(Signal::parse(text), Err(SignalError::Malformed), "{text}");
            assert_eq!(RelayRequest::parse(text), Err(SignalError::Malformed), "{text}");
        }
        // An addressed message carries a valid signal, and nothing else.
        assert!(RelayRequest::parse(r#"{"t":"to","to":1,"s":{"t":"nope"}}"#).is_err());
        assert!(RelayRequest::parse(r#"{"t":"to","to":-1,"s":{"t":"bye"}}"#).is_err());
        assert!(RelayRequest::parse(r#"{"t":"to","to":1,"s":{"t":"bye"},"from":2}"#).is_err());
        assert!(RelayRequest::parse(r#"{"t":"open-group","x":1}"#).is_err());
    }
}
