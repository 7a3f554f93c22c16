//! `shieldcall-relay-mitm`: the relay with the TEST-ONLY man-in-the-middle modes, for the
//! end-to-end tests of the shield. Built only with the `mitm` feature; never shipped.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let usage = shieldcall_relay::mitm::usage();
    shieldcall_relay::cli::main("shieldcall-relay-mitm", shieldcall_relay::mitm::from_args, &usage)
        .await
}
