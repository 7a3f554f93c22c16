//! A strict JSON reader and a small writer for the messages on the relay socket and the app's
//! `config.json`: a text becomes a [`Json`] value once, and each message takes its fields from
//! it by hand ([`FromJson`]); each message writes itself member by member ([`ObjectWriter`]),
//! in the text serde wrote.
//!
//! Why not serde's derived code: the page carried one deserializer per message type, and the
//! enums tagged by `t` (and [`crate::Inbound`], which tries three of them) buffered every
//! message through serde's generic `Content` first. That was about 100 KB of the app's 925 KB
//! of wasm code (docs/MEASURED.md, the sizes); this reader, the writer and the hand-written
//! messages are a small fraction of it.
//!
//! Where it is stricter than serde_json, on purpose: a repeated key is refused (a value that
//! two readers could read two ways), as are objects of more than [`MAX_MEMBERS`] members
//! (none of ours has a dozen; the repeated-key check is quadratic) and nesting deeper than
//! [`MAX_DEPTH`]. Numbers are kept only as the non-negative integers the messages use; one
//! too large for a double (`1e400`) is read as no integer, where serde_json refuses the text.

/// A JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    Object(Object),
}

/// A JSON number: the integer, when it is one from 0 to `u64::MAX` written without a fraction
/// or exponent (every number in a message is), and `None` for any other valid number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Number(pub Option<u64>);

/// An object's members in their order, no key twice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object(Vec<(String, Json)>);

/// Objects may have at most this many members.
pub const MAX_MEMBERS: usize = 64;
/// Arrays and objects may nest at most this deep.
pub const MAX_DEPTH: u32 = 32;

/// Why a text is not JSON this reader takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError(&'static str);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for JsonError {}

/// Reads one JSON value, with nothing but whitespace around it.
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut reader = Reader { text, at: 0, depth: 0 };
    let value = reader.value()?;
    reader.skip_whitespace();
    if reader.at != text.len() {
        return Err(JsonError("text after the JSON value"));
    }
    Ok(value)
}

/// Reads `text` as a `T`.
pub fn decode<T: FromJson>(text: &str) -> Result<T, JsonError> {
    T::from_json(parse(text)?).ok_or(JsonError("JSON of another shape"))
}

/// A type read from a [`Json`] value: `None` when the value has another shape.
pub trait FromJson: Sized {
    fn from_json(json: Json) -> Option<Self>;
}

impl FromJson for Json {
    fn from_json(json: Json) -> Option<Self> {
        Some(json)
    }
}

impl FromJson for String {
    fn from_json(json: Json) -> Option<Self> {
        match json {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

impl FromJson for bool {
    fn from_json(json: Json) -> Option<Self> {
        match json {
            Json::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl FromJson for u64 {
    fn from_json(json: Json) -> Option<Self> {
        match json {
            Json::Number(Number(n)) => n,
            _ => None,
        }
    }
}

macro_rules! narrow_integer {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(json: Json) -> Option<Self> {
                u64::from_json(json)?.try_into().ok()
            }
        }
    )*};
}
narrow_integer!(u8, u16, u32);

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(json: Json) -> Option<Self> {
        match json {
            Json::Array(items) => items.into_iter().map(T::from_json).collect(),
            _ => None,
        }
    }
}

impl FromJson for Object {
    fn from_json(json: Json) -> Option<Self> {
        match json {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }
}

impl Object {
    /// Takes the member `key` out, if there is one.
    pub fn take(&mut self, key: &str) -> Option<Json> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// Takes the member `key` out as a `T`: `None` when it is missing or not a `T`.
    pub fn required<T: FromJson>(&mut self, key: &str) -> Option<T> {
        T::from_json(self.take(key)?)
    }

    /// Takes the member `key` out as an optional `T`, absent when missing or `null`: `None`
    /// only when it is there and not a `T`.
    pub fn optional<T: FromJson>(&mut self, key: &str) -> Option<Option<T>> {
        match self.take(key) {
            None | Some(Json::Null) => Some(None),
            Some(json) => T::from_json(json).map(Some),
        }
    }

    /// Takes the member `key` out as a `T`, `default` when missing: `None` only when it is
    /// there and not a `T` (`null` included).
    pub fn defaulted<T: FromJson>(&mut self, key: &str, default: T) -> Option<T> {
        match self.take(key) {
            None => Some(default),
            Some(json) => T::from_json(json),
        }
    }

    /// `value`, if every member has been taken: a message refuses fields it does not know.
    pub fn done<T>(self, value: T) -> Option<T> {
        self.0.is_empty().then_some(value)
    }

    /// A value tagged by its member `t`, read from its other members by `from_tag`, which must
    /// use them all: one reader for every tagged message kind.
    pub fn read_tagged<T>(
        json: Json,
        from_tag: impl FnOnce(&str, &mut Object) -> Option<T>,
    ) -> Option<T> {
        let mut f = Object::from_json(json)?;
        let tag: String = f.required("t")?;
        let value = from_tag(&tag, &mut f)?;
        f.done(value)
    }
}

/// Writes one JSON object, member by member, compact and with serde_json's escapes (so the
/// text is what serde wrote when it wrote the messages).
pub struct ObjectWriter {
    out: String,
    empty: bool,
}

impl Default for ObjectWriter {
    fn default() -> Self {
        ObjectWriter { out: String::from("{"), empty: true }
    }
}

impl ObjectWriter {
    /// An object whose first member is its tag, `"t": tag`.
    pub fn tagged(tag: &str) -> Self {
        let mut object = ObjectWriter::default();
        object.string("t", tag);
        object
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_string(&mut self.out, key);
        self.out.push(':');
        &mut self.out
    }

    pub fn string(&mut self, key: &str, value: &str) -> &mut Self {
        write_string(self.key(key), value);
        self
    }

    /// The member, if there is a value: absent otherwise (never `null`).
    pub fn optional_string(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.string(key, value);
        }
        self
    }

    pub fn number(&mut self, key: &str, value: u64) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.key(key), "{value}");
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key).push_str(if value { "true" } else { "false" });
        self
    }

    pub fn strings(&mut self, key: &str, values: &[String]) -> &mut Self {
        let out = self.key(key);
        out.push('[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(out, value);
        }
        out.push(']');
        self
    }

    pub fn numbers(&mut self, key: &str, values: impl IntoIterator<Item = u64>) -> &mut Self {
        use std::fmt::Write;
        let out = self.key(key);
        out.push('[');
        for (i, value) in values.into_iter().enumerate() {
            let _ = write!(out, "{}{value}", if i > 0 { "," } else { "" });
        }
        out.push(']');
        self
    }

    /// A member whose value is JSON text already written (an object of its own).
    pub fn json(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key).push_str(json);
        self
    }

    pub fn finish(&mut self) -> String {
        self.out.push('}');
        std::mem::take(&mut self.out)
    }
}

/// `value` as a JSON string: quotes, backslashes and control characters escaped as
/// serde_json escapes them; everything else, `/` and non-ASCII included, as it is.
pub fn write_string(out: &mut String, value: &str) {
    out.push('"');
    let mut plain = 0;
    for (at, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&value[plain..at]);
        plain = at + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&value[plain..]);
    out.push('"');
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: u32,
}

const SYNTAX: JsonError = JsonError("not valid JSON");

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(SYNTAX),
        }
    }

    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Json, JsonError>,
    ) -> Result<Json, JsonError> {
        if self.depth == MAX_DEPTH {
            return Err(JsonError("JSON nested too deep"));
        }
        self.depth += 1;
        self.at += 1; // the opening bracket
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if !self.text[self.at..].starts_with(word) {
            return Err(SYNTAX);
        }
        self.at += word.len();
        Ok(value)
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        let mut members: Vec<(String, Json)> = Vec::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Json::Object(Object(members)));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(SYNTAX);
            }
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(JsonError("a key appears twice in an object"));
            }
            if members.len() == MAX_MEMBERS {
                return Err(JsonError("an object with too many members"));
            }
            self.skip_whitespace();
            if !self.eat(b':') {
                return Err(SYNTAX);
            }
            members.push((key, self.value()?));
            self.skip_whitespace();
            if self.eat(b'}') {
                return Ok(Json::Object(Object(members)));
            }
            if !self.eat(b',') {
                return Err(SYNTAX);
            }
        }
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            if self.eat(b']') {
                return Ok(Json::Array(items));
            }
            if !self.eat(b',') {
                return Err(SYNTAX);
            }
        }
    }

    /// A string, from its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.at += 1;
            }
            // Stopped at an ASCII byte or the end: a character boundary.
            out.push_str(&self.text[start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    out.push(self.escape()?);
                }
                _ => return Err(JsonError("a string with a control character, or unterminated")),
            }
        }
    }

    /// The character of an escape, after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let byte = self.peek().ok_or(SYNTAX)?;
        self.at += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        // A surrogate pair, or nothing a string can hold.
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return Err(JsonError("a lone surrogate in a string"));
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(JsonError("a lone surrogate in a string"));
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(JsonError("a lone surrogate in a string")),
                    _ => unit,
                };
                char::from_u32(code).ok_or(SYNTAX)?
            }
            _ => return Err(SYNTAX),
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.text.get(self.at..self.at + 4).ok_or(SYNTAX)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SYNTAX);
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| SYNTAX)
    }

    /// A number as JSON writes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Json, JsonError> {
        let negative = self.eat(b'-');
        let start = self.at;
        if !self.eat(b'0') && !self.digits() {
            return Err(SYNTAX);
        }
        let end = self.at;
        // Negative numbers are none of ours (`-0` too: serde_json reads it as a float).
        let mut integer = !negative;
        if self.eat(b'.') {
            integer = false;
            if !self.digits() {
                return Err(SYNTAX);
            }
        }
        if self.eat(b'e') || self.eat(b'E') {
            integer = false;
            let _ = self.eat(b'+') || self.eat(b'-');
            if !self.digits() {
                return Err(SYNTAX);
            }
        }
        let value = if integer { self.text[start..end].parse().ok() } else { None };
        Ok(Json::Number(Number(value)))
    }

    /// One digit or more; whether there was one.
    fn digits(&mut self) -> bool {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at > start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// serde_json's reading of `text`, in this module's terms; `Err` when it refuses a number
    /// too large for a double, which this reads (as no integer).
    fn serde_or_overflow(text: &str) -> Result<Option<Json>, ()> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) if e.to_string().starts_with("number out of range") => Err(()),
            _ => Ok(serde_reading(text)),
        }
    }

    /// serde_json's reading of `text`, in this module's terms.
    fn serde_reading(text: &str) -> Option<Json> {
        fn convert(value: serde_json::Value) -> Json {
            match value {
                serde_json::Value::Null => Json::Null,
                serde_json::Value::Bool(b) => Json::Bool(b),
                serde_json::Value::Number(n) => Json::Number(Number(n.as_u64())),
                serde_json::Value::String(s) => Json::String(s),
                serde_json::Value::Array(items) => {
                    Json::Array(items.into_iter().map(convert).collect())
                }
                serde_json::Value::Object(map) => {
                    Json::Object(Object(map.into_iter().map(|(k, v)| (k, convert(v))).collect()))
                }
            }
        }
        serde_json::from_str(text).ok().map(convert).map(sorted)
    }

    /// Members sorted by key, as serde_json's map keeps them, to compare with it.
    fn sorted(json: Json) -> Json {
        match json {
            Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
            Json::Object(Object(mut members)) => {
                members.sort_by(|a, b| a.0.cmp(&b.0));
                Json::Object(Object(members.into_iter().map(|(k, v)| (k, sorted(v))).collect()))
            }
            other => other,
        }
    }

    #[test]
    fn reads_what_json_writes() {
        let text = r#" {"t":"ice","n":[0, 18446744073709551615, 1.5, -2, 1e3, 18446744073709551616],
            "s":"a\"b\\c\/\b\f\n\r\t\u00e9\ud83d\ude00é","x":null,"y":[true,false,{}],"z":[]} "#;
        let json = parse(text).unwrap();
        assert_eq!(sorted(json.clone()), serde_reading(text).unwrap());
        let Json::Object(mut object) = json else { panic!("an object") };
        assert_eq!(object.required::<String>("t").as_deref(), Some("ice"));
        let numbers = object.take("n").unwrap();
        let expected = [Some(0), Some(u64::MAX), None, None, None, None];
        let expected = expected.map(|n| Json::Number(Number(n))).to_vec();
        assert_eq!(numbers, Json::Array(expected));
        assert_eq!(object.required::<String>("s").unwrap(), "a\"b\\c/\u{8}\u{c}\n\r\té😀é");
        assert_eq!(object.optional::<String>("x"), Some(None), "null is absent");
        assert_eq!(object.optional::<String>("missing"), Some(None));
        assert_eq!(object.optional::<String>("y"), None, "there and not a string");
        assert_eq!(object.clone().done(()), None, "members left");
        object.take("z");
        assert_eq!(object.done(()), Some(()));
    }

    #[test]
    fn integers_narrow_only_when_they_fit() {
        assert_eq!(decode::<u8>("255").ok(), Some(255));
        assert_eq!(decode::<u8>("256").ok(), None);
        assert_eq!(decode::<u16>("65535").ok(), Some(65535));
        assert_eq!(decode::<u32>("4294967296").ok(), None);
        assert_eq!(decode::<u8>("1.0").ok(), None);
        assert_eq!(decode::<u8>("-0").ok(), None, "a float to serde_json too");
        assert_eq!(serde_reading("-0"), Some(Json::Number(Number(None))));
        assert_eq!(decode::<u8>("-1").ok(), None);
        let huge = "1e400";
        assert_eq!(parse(huge), Ok(Json::Number(Number(None))));
        assert_eq!(serde_or_overflow(huge), Err(()), "serde_json refuses it");
        assert_eq!(decode::<Vec<u32>>("[1,2,3]").ok(), Some(vec![1, 2, 3]));
        assert_eq!(decode::<Vec<u32>>("[1,\"2\"]").ok(), None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for text in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "-",
            "tru",
            "nul",
            "\"abc",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "1 2",
            "{} x",
            "'a'",
            "NaN",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
            assert!(serde_reading(text).is_none(), "serde_json agrees on {text:?}");
        }
    }

    #[test]
    fn refuses_repeated_keys_wide_objects_and_deep_nesting() {
        let twice = r#"{"t":"bye","t":"hello"}"#;
        assert!(serde_reading(twice).is_some(), "serde_json's Value keeps the last");
        assert_eq!(parse(twice), Err(JsonError("a key appears twice in an object")));
        let members = |n: usize| {
            let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":0")).collect();
            format!("{{{}}}", members.join(","))
        };
        assert!(parse(&members(MAX_MEMBERS)).is_ok());
        assert!(parse(&members(MAX_MEMBERS + 1)).is_err());
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(MAX_DEPTH as usize)).is_ok());
        assert!(parse(&deep(MAX_DEPTH as usize + 1)).is_err());
    }

    /// Any JSON value, written by serde_json (escapes, numbers, nesting as it writes them).
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            (-1e9f64..1e9).prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn writes_compact_objects_in_member_order() {
        let mut object = ObjectWriter::tagged("x\"y");
        object
            .number("n", u64::MAX)
            .bool("b", false)
            .optional_string("absent", None)
            .optional_string("s", Some("a/é\u{7f}\u{1}\n"))
            .strings("list", &["1".into(), "\\".into()])
            .numbers("ids", [1, 2])
            .numbers("none", [])
            .json("inner", "{}");
        let text = object.finish();
        assert_eq!(
            text,
            r#"{"t":"x\"y","n":18446744073709551615,"b":false,"s":"a/é\u{7f}\u0001\n","list":["1","\\"],"ids":[1,2],"none":[],"inner":{}}"#
                .replace("\\u{7f}", "\u{7f}")
        );
        let expected = serde_json::json!({
            "t": "x\"y", "n": u64::MAX, "b": false, "s": "a/é\u{7f}\u{1}\n",
            "list": ["1", "\\"], "ids": [1, 2], "none": [], "inner": {},
        });
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), expected);
        assert_eq!(sorted(parse(&text).unwrap()), serde_reading(&text).unwrap());
    }

    proptest! {
        /// Whatever serde_json writes, this reads as serde_json reads it back.
        #[test]
        fn agrees_with_serde_json_on_what_it_writes(value in any_json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            prop_assert_eq!(parse(&text).ok().map(sorted), serde_reading(&text));
        }

        /// Any string is written as serde_json writes it, and reads back the same.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(value in any::<String>()) {
            let mut text = String::new();
            write_string(&mut text, &value);
            prop_assert_eq!(&text, &serde_json::to_string(&value).unwrap());
            prop_assert_eq!(parse(&text), Ok(Json::String(value)));
        }

        /// On any text at all, never a panic, and never a value serde_json would not read.
        #[test]
        fn any_text_is_read_or_refused(text in "[ -~\\t\\n\u{e9}\u{1F600}]{0,40}") {
            if let Ok(json) = parse(&text)
                && let Ok(serde) = serde_or_overflow(&text)
            {
                prop_assert_eq!(Some(sorted(json)), serde);
            }
        }

        /// Damaged JSON: cut short or with one byte changed, read only as serde_json would.
        #[test]
        fn damaged_json_is_read_only_as_serde_json_reads_it(
            value in any_json(),
            cut in any::<prop::sample::Index>(),
            byte in prop::sample::select(b"{}[]:,\"\\ 0-.eE".to_vec()),
        ) {
            let text = serde_json::to_string(&value).unwrap();
            let at = cut.index(text.len() + 1);
            let mut damaged = text.as_bytes().to_vec();
            if at < damaged.len() && damaged[at].is_ascii() {
                damaged[at] = byte;
            } else {
                damaged.truncate(at.min(damaged.len()));
            }
            if let Ok(damaged) = String::from_utf8(damaged)
                && let Ok(json) = parse(&damaged)
                && let Ok(serde) = serde_or_overflow(&damaged)
            {
                prop_assert_eq!(Some(sorted(json)), serde);
            }
        }
    }
}
