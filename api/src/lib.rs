//! The dvc server: settings, telemetry and the application's start-up. The binary's command line
//! lives in `main.rs`; this library lets the integration tests start the same application.

pub mod settings;
pub mod startup;
pub mod telemetry;
