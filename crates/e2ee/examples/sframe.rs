//! Encrypt or decrypt one SFrame from the command line, so anyone can check us against RFC 9605.
//!
//! ```text
//! sframe encrypt --suite 4 --key HEX --kid N --ctr N [--metadata HEX] --pt HEX
//! sframe decrypt --suite 4 --key HEX [--metadata HEX] --ct HEX
//! ```
//! `--key` is the RFC's `base_key`; N is decimal or 0x-hex. Output is hex on stdout.

use std::collections::HashMap;
use std::process::ExitCode;

use shieldcall_e2ee::sframe::{
    CipherSuite, DropReason, SframeKey, decrypt_frame, encrypt_frame, frame_header,
};

const USAGE: &str = "usage:
  sframe encrypt --suite N --key HEX --kid N --ctr N [--metadata HEX] --pt HEX
  sframe decrypt --suite N --key HEX [--metadata HEX] --ct HEX";

fn hex(name: &str, text: &str) -> Result<Vec<u8>, String> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    if !text.len().is_multiple_of(2) {
        return Err(format!("--{name}: odd number of hex digits"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("--{name}: not hex"))
        })
        .collect()
}

fn number(name: &str, text: &str) -> Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("--{name}: not a number (decimal or 0x-hex, up to 2^64-1)"))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(args: &[String]) -> Result<String, String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let mut opts = HashMap::new();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let name =
            flag.strip_prefix("--").ok_or_else(|| format!("unexpected {flag:?}\n{USAGE}"))?;
        let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        if opts.insert(name.to_owned(), value.clone()).is_some() {
            return Err(format!("--{name} given twice"));
        }
    }
    let mut take =
        |name: &str| opts.remove(name).ok_or_else(|| format!("missing --{name}\n{USAGE}"));
    let suite_id = number("suite", &take("suite")?)?;
    let suite = u16::try_from(suite_id)
        .ok()
        .and_then(|id| CipherSuite::from_id(id).ok())
        .ok_or_else(|| format!("--suite: unknown cipher suite {suite_id} (1-5)"))?;
    let key = hex("key", &take("key")?)?;
    let metadata = match take("metadata") {
        Ok(m) => hex("metadata", &m)?,
        Err(_) => Vec::new(),
    };
    let result = match command.as_str() {
        "encrypt" => {
            let kid = number("kid", &take("kid")?)?;
            let ctr = number("ctr", &take("ctr")?)?;
            let pt = hex("pt", &take("pt")?)?;
            let mut out = Vec::new();
            encrypt_frame(&SframeKey::derive(suite, &key, kid), ctr, &metadata, &pt, &mut out)
                .map_err(|_| "plaintext too long".to_owned())?;
            to_hex(&out)
        }
        "decrypt" => {
            let ct = hex("ct", &take("ct")?)?;
            let header = frame_header(&ct).map_err(|_| "not an SFrame: truncated header")?;
            let mut out = Vec::new();
            match decrypt_frame(
                &SframeKey::derive(suite, &key, header.kid),
                &metadata,
                &ct,
                &mut out,
            ) {
                Ok(_) => to_hex(&out),
                Err(DropReason::Malformed) => return Err("not an SFrame: too short".into()),
                Err(_) => {
                    return Err("authentication failed: wrong key, suite or metadata, or the frame was modified".into());
                }
            }
        }
        other => return Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    if let Some(name) = opts.keys().next() {
        return Err(format!("unknown option --{name}\n{USAGE}"));
    }
    Ok(result)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("sframe: {message}");
            ExitCode::FAILURE
        }
    }
}
