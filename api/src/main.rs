//! `dvc-api`: the server and its administrative commands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dvc_api::settings::{Settings, parse_key};
use dvc_api::startup::{Application, open_store, rotate_pii_key};
use dvc_api::telemetry;
use dvc_domain::{DisplayName, NewUser, Password, Role, UnitCode, Username};
use dvc_seed::Profile;
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
    /// Recompute the citizen-account counters from the records and the officials' standing from the
    /// officials (after a restore or a manual fix).
    RebuildCounters,
    /// Compare the counters with the records and the officials; exits with 1 when any differ.
    CheckCounters,
    /// Fill an empty database with data to look at or measure with.
    ///
    /// `demo`: Bình Định's units (before the 2025 reform), its Service Center, about five officials
    /// per desk with portal accounts and grants, the 2021 directive, and 3,000 records over
    /// July–December 2021, in seconds. `province`: Bình Định with 200,000 records from July 2021
    /// to yesterday. `country`: the whole official tree with 10,000,000 records over the same
    /// months. `--records` sets the count.
    ///
    /// Records before 1 July 2025 are made at the old units. For `province` and `country` the
    /// reform is then applied as `apply-reorganisation` does (the Service Centers, which the list
    /// does not name, stay as they are) and officials of closed communes move to their successors,
    /// so later records are made at the new units; officials of the abolished districts record no
    /// more. Every record is made by an official holding a grant, at the official's unit, with
    /// sealed numbers; the counters are recounted at the end.
    ///
    /// A database that already holds units is refused (exit status 1): seed a new one. Records are
    /// written in batches that commit as they go, so a run that fails leaves a partial database to
    /// drop and seed again. Progress is shown on stderr. One audit
    /// event records the run (profile and counts) rather than one per generated row. No user is
    /// created: the server creates `admin` on first start, and `create-user` adds others.
    Seed {
        /// demo, province or country.
        #[arg(long, value_parser = parse_profile)]
        profile: Profile,
        /// How many citizen-account records (default: 3,000, 200,000 or 10,000,000).
        #[arg(long)]
        records: Option<u64>,
        /// The unit list before the reform.
        #[arg(long, default_value = "data/dvhc/units-2025-01-04.csv")]
        units_file: PathBuf,
        /// The reform's conversion list.
        #[arg(long, default_value = "data/dvhc/conversion-2025-07-01.csv")]
        conversion_file: PathBuf,
        /// Seeds the generator: the same seed gives the same people, days and outcomes.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
    },
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

fn parse_profile(raw: &str) -> Result<Profile, String> {
    Profile::parse(raw).ok_or_else(|| "expected demo, province or country".to_owned())
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| "expected admin, manager, clerk, viewer or integration".to_owned())
}

/// The allocator of every Rust allocation in the process: a request allocates and frees many small
/// values (rows, their columns, the JSON answer), and glibc's allocator spent about a fifth of a
/// busy server's time on them. SQLite's own allocations still go through the C library. Built
/// without transparent huge pages, which made each thread's first allocations hold 2 MiB of
/// memory: 22 MB more at rest, for 4 % more reads a second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::Seed { profile, records, units_file, conversion_file, seed } => {
            let records = records.unwrap_or_else(|| profile.default_records());
            let options = dvc_seed::Options { profile, records, units_file, conversion_file, seed };
            seed_database(&settings, &options).await?;
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

/// Shows a seeding run's progress on stderr: each step, and the records written about once a second.
struct SeedProgress {
    started: std::time::Instant,
    shown: std::sync::Mutex<std::time::Instant>,
}

impl dvc_seed::Progress for SeedProgress {
    fn step(&self, what: &str) {
        eprintln!("[{:>5.0} s] {what}", self.started.elapsed().as_secs_f64());
    }

    fn records(&self, written: u64, total: u64) {
        let Ok(mut shown) = self.shown.lock() else { return };
        if shown.elapsed().as_secs() < 1 && written < total {
            return;
        }
        *shown = std::time::Instant::now();
        let seconds = self.started.elapsed().as_secs_f64();
        let (percent, rate) = (written as f64 * 100.0 / total.max(1) as f64, written as f64 / seconds.max(0.001));
        eprintln!(
            "[{seconds:>5.0} s] {written} of {total} records ({percent:.0}%), {rate:.0} a second since the start"
        );
    }
}

async fn seed_database(settings: &Settings, options: &dvc_seed::Options) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let now = std::time::Instant::now();
    let progress = SeedProgress { started: now, shown: std::sync::Mutex::new(now) };
    eprintln!("seeding the {} profile with {} citizen-account records", options.profile.as_str(), options.records);
    let summary = dvc_seed::run(&store, options, &progress).await?;
    let seconds = now.elapsed().as_secs_f64();
    eprintln!(
        "done in {seconds:.0} s: {} units, {} officials with grants, {} records ({:.0} a second), {} counter rows",
        summary.units,
        summary.officials,
        summary.records,
        summary.records as f64 / seconds.max(0.001),
        summary.counters
    );
    for (code, id) in &summary.provinces {
        eprintln!("  province {code}: {id}");
    }
    eprintln!(
        "to look: `dvc-api serve` creates the user admin on first start and prints its password (or \
         `DVC_NEW_USER_PASSWORD=… dvc-api create-user --username … --role admin`); then \
         GET /api/v1/reports/monthly?period=2021-07&unit_id=<province id>"
    );
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
    eprintln!("recounting the officials' standing");
    let standings = dvc_store::standing::rebuild(&tx).await?;
    tx.commit().await?;
    eprintln!("done: {rows} counter rows and {standings} standing rows written");
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
    eprintln!("recounting the officials' standing");
    let standings = dvc_store::standing::differences(store.conn()).await?;
    for difference in &standings {
        eprintln!(
            "{} standing of unit {} {}: stored {:?}; officials say {:?}",
            difference.ledger.as_str(),
            difference.unit_id,
            difference.period,
            difference.stored,
            difference.recounted,
        );
    }
    let totals = dvc_store::counters::to_date_differences(store.conn()).await?;
    for difference in &totals {
        eprintln!(
            "accounts created to date of unit {} {}: stored {}; its subtree counters say {}",
            difference.unit_id, difference.period, difference.stored, difference.summed,
        );
    }
    if differences.is_empty() && standings.is_empty() && totals.is_empty() {
        eprintln!("the counters agree with the records and the officials");
        return Ok(());
    }
    let count = differences.len() + standings.len() + totals.len();
    eprintln!("{count} counters differ; `dvc-api rebuild-counters` recomputes them");
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
