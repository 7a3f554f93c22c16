//! The binaries' `main`: parse the flags, bind, print the address, serve until ctrl-c.

use std::io::Write;

use tracing_subscriber::EnvFilter;

use crate::config::{Command, LISTEN_ENV};

/// Parses the command line.
pub type Parse = fn(std::env::Args, Option<String>) -> Result<Command, String>;

/// Run a relay binary whose flags `parse` reads and `usage` describes.
pub async fn main(name: &str, parse: Parse, usage: &str) -> std::process::ExitCode {
    let mut args = std::env::args();
    args.next(); // the program's own name
    let config = match parse(args, std::env::var(LISTEN_ENV).ok()) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{usage}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{name}: {e}\n\n{usage}");
            return std::process::ExitCode::from(2);
        }
    };
    // Logs go to stderr; stdout carries only the address lines that scripts and tests read.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    if config.log_json {
        // One object per line, the event's fields (call, reason, counts) as JSON fields.
        logs.json().with_current_span(false).with_span_list(false).init();
    } else {
        // Colours only for a person at a terminal, not in log files.
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }

    #[cfg(feature = "mitm")]
    if let Some(attack) = config.mitm {
        let (flag, what) = (attack.flag(), attack.what());
        let bar = "!".repeat(80);
        eprintln!("\n{bar}");
        for line in [
            format!("WARNING: {flag}: TEST-ONLY MAN-IN-THE-MIDDLE MODE"),
            format!("This relay {what} it forwards."),
            "Calls through it must show a red shield. Never run it for real users.".into(),
        ] {
            eprintln!("!!  {line:<72}  !!");
        }
        eprintln!("{bar}\n");
        tracing::warn!("{flag} mode on: signals are being tampered with");
    }

    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("{name}: cannot listen on {}: {e}", config.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("{name}: bound socket has no address: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let metrics = match config.metrics_listen {
        None => None,
        Some(at) => match tokio::net::TcpListener::bind(at).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                eprintln!("{name}: cannot listen on {at} (--metrics-listen): {e}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    // Tests bind port 0 and read this line; flush so a pipe sees it at once.
    println!("listening on http://{addr}");
    if let Some(metrics) = &metrics {
        match metrics.local_addr() {
            Ok(at) => println!("metrics on http://{at}"),
            Err(e) => {
                eprintln!("{name}: bound socket has no address: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let _ = std::io::stdout().flush();

    match crate::serve_with_metrics(listener, metrics, config, shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ctrl-c, or SIGTERM (what `kill` and process managers send) on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, ctrl-c still kills the process the default way.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
