//! `dvc-api`: the server and its administrative commands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dvc_api::settings::{Settings, parse_key};
use dvc_api::startup::{Application, open_store, rotate_pii_key};
use dvc_api::telemetry;
use dvc_domain::{DisplayName, NewUser, Password, Role, UnitCode, Username};
use dvc_store::Actor;

#[derive(Debug, Parser)]
#[command(
    name = "dvc-api",
    version,
    about = "The back end of the provincial drive for National Public Service Portal accounts"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Create a user or service account.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The scope unit's id; every role but admin needs one.
        #[arg(long)]
        unit_id: Option<uuid::Uuid>,
        #[arg(long)]
        display_name: Option<String>,
        /// The password (or client secret), at least 12 characters.
        #[arg(long, env = "DVC_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Add a new token signing key: new tokens are signed with it (every process picks it up within
    /// a minute), tokens signed with the older keys stay valid until they expire.
    RotateSigningKey,
    /// Re-seal every stored ID and phone number under a new personal-data key, in one transaction.
    /// The current key is DVC_PII_KEY (or the one stored in the database); the new one is
    /// DVC_NEW_PII_KEY, to be configured as DVC_PII_KEY from then on, or, without it, a generated one
    /// kept in the database. Stop the servers first and start them with the new key.
    RotatePiiKey {
        /// The new key, 64 hexadecimal digits.
        #[arg(long, env = "DVC_NEW_PII_KEY", hide_env_values = true, value_parser = parse_pii_key)]
        new_key: Option<[u8; 32]>,
    },
    /// Record the 2021 provincial letter 3102/UBND-KSTT and its deadlines; running it again
    /// changes nothing.
    LoadDirective,
    /// Apply the 2025 reform's official old → new commune list (conversion-2025-07-01.csv): old
    /// units close, new ones open on 1 July 2025, old units name their successors. Running it again
    /// changes nothing.
    ApplyReorganisation {
        file: PathBuf,
        /// Only this new province (its code after the reform).
        #[arg(long)]
        province: Option<String>,
        /// Print what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Recompute the citizen-account counters from the records (after a restore or a manual fix).
    RebuildCounters,
    /// Compare the citizen-account counters with the records; exits with 1 when any differ.
    CheckCounters,
    /// Import the statistics office's unit list (CSV); running it again changes nothing.
    ImportUnits {
        file: PathBuf,
        /// Only this province (its 2-digit code) and what lies below it.
        #[arg(long)]
        province: Option<String>,
    },
}

fn parse_pii_key(raw: &str) -> Result<[u8; 32], String> {
    parse_key(raw).ok_or_else(|| "expected 64 hexadecimal digits (32 bytes)".to_owned())
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| "expected admin, manager, clerk, viewer or integration".to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(&settings).await?.run_until_stopped().await?,
        Command::Migrate => {
            open_store(&settings).await?;
            eprintln!("migrations applied");
        }
        Command::Openapi => print_openapi()?,
        Command::CreateUser { username, role, unit_id, display_name, password } => {
            let display_name = display_name.unwrap_or_else(|| username.clone());
            create_user(&settings, username, role, unit_id, display_name, password).await?;
        }
        Command::LoadDirective => load_directive(&settings).await?,
        Command::RotateSigningKey => rotate_signing_key(&settings).await?,
        Command::ApplyReorganisation { file, province, dry_run } => {
            apply_reorganisation(&settings, &file, province.as_deref(), dry_run).await?;
        }
        Command::RebuildCounters => rebuild_counters(&settings).await?,
        Command::CheckCounters => check_counters(&settings).await?,
        Command::RotatePiiKey { new_key } => {
            let resealed = rotate_pii_key(&settings, new_key).await?;
            let kept = if new_key.is_some() {
                "start the servers with DVC_PII_KEY set to the new key"
            } else {
                "the new key is stored in the database"
            };
            eprintln!(
                "re-sealed the numbers of {} officials, {} roster rows and {} citizen-account records; {kept}",
                resealed.officials, resealed.roster_entries, resealed.citizen_accounts
            );
        }
        Command::ImportUnits { file, province } => import_units(&settings, &file, province.as_deref()).await?,
    }
    Ok(())
}

#[allow(clippy::print_stdout, reason = "printing the document is the command's purpose")]
fn print_openapi() -> anyhow::Result<()> {
    println!("{}", dvc_http::openapi().to_pretty_json()?);
    Ok(())
}

async fn create_user(
    settings: &Settings,
    username: String,
    role: Role,
    unit_id: Option<uuid::Uuid>,
    display_name: String,
    password: String,
) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let password_hash =
        dvc_http::password::hash(Password::parse(&password)?).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    let new = NewUser {
        username: Username::parse(&username)?,
        display_name: DisplayName::parse(&display_name)?,
        role,
        unit_id,
        official_id: None,
        password_hash,
    };
    dvc_domain::user::check_scope_unit(role, unit_id)
        .map_err(|_| anyhow::anyhow!("--unit-id is required for every role but admin"))?;
    let tx = store.begin().await?;
    let user = dvc_store::users::create(&tx, &Actor::system("cli"), new).await?;
    tx.commit().await?;
    eprintln!("created user {} ({})", user.username.as_str(), user.id);
    Ok(())
}

async fn import_units(settings: &Settings, file: &std::path::Path, province: Option<&str>) -> anyhow::Result<()> {
    let province = province.map(UnitCode::parse).transpose().context("--province")?;
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    eprintln!("reading {}", file.display());
    let listed = dvc_dvhc::read_units(std::io::BufReader::new(reader), province.as_ref())?;
    eprintln!("{} units listed; importing", listed.len());
    let store = open_store(settings).await?;
    let tx = store.begin().await?;
    let progress = |done: usize, total: usize| eprintln!("  {done}/{total} units");
    let summary = dvc_store::units::import(&tx, &Actor::system("cli"), &listed, &progress).await?;
    tx.commit().await?;
    eprintln!("done: {} created, {} updated, {} unchanged", summary.created, summary.updated, summary.unchanged);
    Ok(())
}

async fn load_directive(settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let letter = dvc_domain::directive::letter_3102();
    if let Some(existing) = dvc_store::directives::find_by_code(store.conn(), &letter.code).await? {
        eprintln!("directive {} is already recorded ({})", existing.code, existing.id);
        return Ok(());
    }
    let tx = store.begin().await?;
    let directive = dvc_store::directives::create(&tx, &Actor::system("cli"), letter).await?;
    tx.commit().await?;
    eprintln!(
        "recorded directive {} ({}) with {} milestones",
        directive.code,
        directive.id,
        directive.milestones.len()
    );
    Ok(())
}

async fn apply_reorganisation(
    settings: &Settings,
    file: &std::path::Path,
    province: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let province = province.map(UnitCode::parse).transpose().context("--province")?;
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    eprintln!("reading {}", file.display());
    let rows = dvc_dvhc::read_conversion(std::io::BufReader::new(reader), province.as_ref())?;
    eprintln!("{} rows listed; applying{}", rows.len(), if dry_run { " (dry run: nothing is written)" } else { "" });
    let store = open_store(settings).await?;
    let tx = store.begin().await?;
    let summary = dvc_store::reorganisations::apply(&tx, &Actor::system("cli"), &rows).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    eprintln!(
        "{}: {} units closed, {} created, {} successors linked, {} unchanged",
        if dry_run { "would change" } else { "done" },
        summary.units_closed,
        summary.units_created,
        summary.successors_linked,
        summary.unchanged
    );
    Ok(())
}

async fn rebuild_counters(settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    eprintln!("recounting citizen-account records");
    let tx = store.begin().await?;
    let rows = dvc_store::counters::rebuild(&tx).await?;
    tx.commit().await?;
    eprintln!("done: {rows} counter rows written");
    Ok(())
}

/// Prints each counter that disagrees with the records and exits with 1 if there is any, so that
/// a scheduled check can alert.
async fn check_counters(settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    eprintln!("recounting citizen-account records");
    let differences = dvc_store::counters::differences(store.conn()).await?;
    for difference in &differences {
        let key = &difference.key;
        eprintln!(
            "{} counters of unit {} {} {}: counters say {} created, {} failed; records say {} created, {} failed",
            difference.ledger.as_str(),
            key.unit_id,
            key.period,
            key.account_kind,
            difference.stored.created,
            difference.stored.failed,
            difference.recounted.created,
            difference.recounted.failed,
        );
    }
    if differences.is_empty() {
        eprintln!("the counters agree with the records");
        return Ok(());
    }
    eprintln!("{} counters differ; `dvc-api rebuild-counters` recomputes them", differences.len());
    std::process::exit(1);
}

async fn rotate_signing_key(settings: &Settings) -> anyhow::Result<()> {
    if settings.jwt_secret.is_some() {
        anyhow::bail!(
            "DVC_JWT_SECRET is set: the signing key is configured, so rotate it by changing the configuration"
        );
    }
    let store = open_store(settings).await?;
    let key = dvc_store::keys::rotate(store.writer()).await?;
    eprintln!("new signing key {} is in use; older keys are still accepted", key.kid);
    Ok(())
}
