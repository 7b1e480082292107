//! Structured logs: JSON lines when the output is a file or a pipe (collectors read them), compact
//! text when a person watches a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second initialisation (several tests in one process) keeps the first subscriber.
    let _ = if std::io::stderr().is_terminal() { builder.compact().try_init() } else { builder.json().try_init() };
}
