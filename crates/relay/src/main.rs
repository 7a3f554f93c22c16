//! `shieldcall-relay`, the relay as shipped: parse the flags, bind, print the address, serve
//! until ctrl-c. It offers no man-in-the-middle mode, whatever features the library was built
//! with: those are `shieldcall-relay-mitm`'s alone.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    shieldcall_relay::cli::main(
        "shieldcall-relay",
        shieldcall_relay::Config::from_args,
        shieldcall_relay::USAGE,
    )
    .await
}
