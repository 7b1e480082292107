//! Data to measure with: fills an empty database with the official tree, a Service Center per
//! province, officials at every desk with their portal accounts and grants, the 2021 directive, and
//! citizen-account records spread over the drive's months, with the 2025 reform in between. It
//! decides what to create; the store writes it (in bulk: `dvc_store::bulk`).
//!
//! Records are generated and written in batches, the next one prepared (generated and sealed) on a
//! thread of its own while the previous one is written, so memory stays bounded whatever the count.

mod calendar;
mod people;
mod records;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dvc_domain::reorganisation::reform_day;
use dvc_domain::time::today_in_vietnam;
use dvc_domain::{
    GrantFunction, GrantPeriod, NewGrant, NewOfficial, NewUnit, PortalAccount, UnitCode, UnitKind, UnitName, Validity,
};
use dvc_store::bulk::{self, RecordBatch, UnitRef};
use dvc_store::{Actor, Store, StoreError};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

use crate::people::{IdNumbers, Sex};
use crate::records::{Desk, Visits};

/// Records generated, sealed and written at a time.
const BATCH: usize = 20_000;
/// Batches prepared ahead of the writer.
const BATCHES_AHEAD: usize = 2;
/// The province the `demo` and `province` profiles load: Bình Định.
const PROVINCE: &str = "52";

/// How much to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Bình Định's units and officials, and a few thousand records over July–December 2021,
    /// before the reform: something to look at in seconds.
    Demo,
    /// Bình Định with realistic volume over July 2021 to yesterday, through the 2025 reform.
    Province,
    /// The whole country over July 2021 to yesterday, through the 2025 reform.
    Country,
}

impl Profile {
    pub fn parse(raw: &str) -> Option<Profile> {
        match raw {
            "demo" => Some(Profile::Demo),
            "province" => Some(Profile::Province),
            "country" => Some(Profile::Country),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Demo => "demo",
            Profile::Province => "province",
            Profile::Country => "country",
        }
    }

    /// The records loaded when no count is given.
    pub fn default_records(self) -> u64 {
        match self {
            Profile::Demo => 3_000,
            Profile::Province => 200_000,
            Profile::Country => 10_000_000,
        }
    }

    /// The province loaded, or the whole country.
    fn province(self) -> Option<&'static str> {
        match self {
            Profile::Demo | Profile::Province => Some(PROVINCE),
            Profile::Country => None,
        }
    }

    /// Whether the run goes through the 2025 reform.
    fn reforms(self) -> bool {
        self != Profile::Demo
    }

    /// The days records fall on.
    fn days(self) -> (NaiveDate, NaiveDate) {
        let day = |year, month, day| NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN);
        match self {
            Profile::Demo => (day(2021, 7, 1), day(2021, 12, 31)),
            _ => (day(2021, 7, 1), today_in_vietnam().pred_opt().unwrap_or(NaiveDate::MIN)),
        }
    }
}

/// What to load, and from which lists.
#[derive(Debug, Clone)]
pub struct Options {
    pub profile: Profile,
    pub records: u64,
    /// The statistics office's unit list before the reform (`units-2025-01-04.csv`).
    pub units_file: PathBuf,
    /// The reform's conversion list (`conversion-2025-07-01.csv`).
    pub conversion_file: PathBuf,
    /// Seeds the generator: the same seed gives the same people, days and outcomes.
    pub seed: u64,
}

/// Where a run is, for a progress display.
pub trait Progress: Sync {
    /// A step begins.
    fn step(&self, what: &str);
    /// `written` of `total` records are in the database.
    fn records(&self, written: u64, total: u64);
}

/// What a run loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub units: usize,
    pub officials: usize,
    pub records: u64,
    pub officials_moved: usize,
    pub counters: usize,
    /// The province units, old and new, to ask for reports.
    pub provinces: Vec<(String, Uuid)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already holds units: seed only an empty database (point DVC_DATABASE_URL at a new one)")]
    NotEmpty,
    #[error("cannot read {file}: {reason}")]
    List { file: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the record generator stopped: {0}")]
    Generator(String),
}

/// Loads `options.profile` into an empty database. One audit event records the whole run.
pub async fn run(store: &Store, options: &Options, progress: &dyn Progress) -> Result<Summary, SeedError> {
    if bulk::holds_units(store.conn()).await? {
        return Err(SeedError::NotEmpty);
    }
    let actor = Actor::system("seed");
    let mut rng = SmallRng::seed_from_u64(options.seed);
    let mut visits = Visits::default();
    let mut summary = Summary::default();

    progress.step("importing the unit list");
    let staffed = staff(store, &actor, options, &mut rng, &mut visits.numbers, &mut summary).await?;

    let (first, last) = options.profile.days();
    let days = calendar::spread(options.records, first, last);
    let reformed = options.profile.reforms();
    let (before, after): (Vec<_>, Vec<_>) = days.into_iter().partition(|(day, _)| !reformed || *day < reform_day());
    let mut loader = Loader { store, actor: &actor, progress, total: options.records, written: 0 };
    let suspended = bulk::suspend_record_indexes(store).await?;
    progress.step("writing citizen-account records");
    (visits, rng) = loader.load(staffed.desks.clone(), before, visits, rng).await?;
    if reformed {
        progress.step("applying the 2025 reform and moving officials to the new units");
        summary.officials_moved = reform(store, &actor, options).await?;
        let desks = desks_after_reform(store, &staffed.birth_provinces).await?;
        progress.step("writing citizen-account records after the reform");
        (visits, rng) = loader.load(desks, after, visits, rng).await?;
    }
    drop((visits, rng));
    summary.records = loader.written;
    progress.step("building the records' indexes");
    suspended.restore(store).await?;

    progress.step("recounting the monthly counters");
    let tx = store.begin().await?;
    bulk::allow_long_statements(&tx).await?;
    summary.counters = dvc_store::counters::rebuild(&tx).await?;
    // Officials and grants were written in bulk, beside the standing they move.
    dvc_store::standing::rebuild(&tx).await?;
    let detail = json!({
        "profile": options.profile.as_str(),
        "units": summary.units,
        "officials": summary.officials,
        "grants": summary.officials,
        "citizen_accounts": summary.records,
        "officials_moved": summary.officials_moved,
    });
    bulk::record_load(&tx, &actor, "database.seed", detail).await?;
    tx.commit().await?;
    progress.step("gathering the planner's statistics");
    bulk::analyze(store.writer()).await?;
    summary.provinces = bulk::units(store.conn())
        .await?
        .into_iter()
        .filter(|unit| unit.kind == UnitKind::Province.as_str())
        .map(|unit| (unit.code, unit.id))
        .collect();
    Ok(summary)
}

/// The officials created, at their desks, and where their citizens were mostly born.
struct Staffed {
    desks: Vec<Desk>,
    birth_provinces: HashMap<Uuid, u16>,
}

/// Imports the tree, opens a Service Center in each province, records the directive, and puts
/// officials with portal accounts and grants at every desk, in one transaction.
async fn staff(
    store: &Store,
    actor: &Actor,
    options: &Options,
    rng: &mut SmallRng,
    numbers: &mut IdNumbers,
    summary: &mut Summary,
) -> Result<Staffed, SeedError> {
    let province = options.profile.province().map(UnitCode::parse).transpose().map_err(StoreError::from)?;
    let listed = read(&options.units_file, |file| dvc_dvhc::read_units(file, province.as_ref()))?;
    let tx = store.begin().await?;
    let imported = dvc_store::units::import(&tx, actor, &listed, &|_, _| {}).await?;
    summary.units = imported.created;
    let units = bulk::units(&tx).await?;
    for unit in units.iter().filter(|unit| unit.kind == UnitKind::Province.as_str()) {
        let name = listed.iter().find(|listed| listed.code.as_str() == unit.code && listed.kind == UnitKind::Province);
        let name = name.map_or(unit.code.as_str(), |listed| listed.name.as_str());
        dvc_store::units::create(&tx, actor, service_center(unit, name)?).await?;
        summary.units += 1;
    }
    let letter = dvc_domain::directive::letter_3102();
    if dvc_store::directives::find_by_code(&tx, &letter.code).await?.is_none() {
        dvc_store::directives::create(&tx, actor, letter).await?;
    }

    let units = bulk::units(&tx).await?;
    let provinces = province_codes(&units);
    let today = today_in_vietnam();
    let mut officials = Vec::new();
    let mut placed = Vec::new();
    for unit in &units {
        let staff = match UnitKind::parse(&unit.kind) {
            Some(UnitKind::ServiceCenter) => rng.random_range(8..=12),
            Some(UnitKind::District) => rng.random_range(4..=6),
            Some(UnitKind::Commune) => rng.random_range(3..=6),
            _ => 0,
        };
        let birth_province = provinces.get(&unit.id).copied().unwrap_or(52);
        for _ in 0..staff {
            officials.push(official(rng, numbers, unit, birth_province, today));
            placed.push((unit.id, birth_province));
        }
    }
    let ids = bulk::insert_officials(&tx, store, officials).await?;
    let grants = ids.iter().map(|id| grant(rng, *id)).collect::<Result<Vec<_>, _>>()?;
    bulk::insert_grants(&tx, actor, grants).await?;
    tx.commit().await?;
    summary.officials = ids.len();
    let desks = ids
        .iter()
        .zip(&placed)
        .map(|(id, (unit_id, birth_province))| Desk {
            official_id: *id,
            unit_id: *unit_id,
            birth_province: *birth_province,
        })
        .collect::<Vec<_>>();
    let birth_provinces = desks.iter().map(|desk| (desk.official_id, desk.birth_province)).collect();
    Ok(Staffed { desks, birth_provinces })
}

fn read<T>(
    path: &std::path::Path,
    parse: impl FnOnce(std::io::BufReader<std::fs::File>) -> Result<T, dvc_dvhc::ListError>,
) -> Result<T, SeedError> {
    let failed = |reason: String| SeedError::List { file: path.display().to_string(), reason };
    let file = std::fs::File::open(path).map_err(|error| failed(error.to_string()))?;
    parse(std::io::BufReader::new(file)).map_err(|error| failed(error.to_string()))
}

/// The province's Public Administration Service Center, where its own one-stop desk is.
fn service_center(province: &UnitRef, province_name: &str) -> Result<NewUnit, StoreError> {
    let place = province_name
        .strip_prefix("Tỉnh ")
        .map(|rest| format!("tỉnh {rest}"))
        .or_else(|| province_name.strip_prefix("Thành phố ").map(|rest| format!("thành phố {rest}")))
        .unwrap_or_else(|| province_name.to_owned());
    Ok(NewUnit {
        code: UnitCode::parse(&format!("TTPVHCC-{}", province.code))?,
        name: UnitName::parse(&format!("Trung tâm Phục vụ hành chính công {place}"))?,
        kind: UnitKind::ServiceCenter,
        category: Some("Trung tâm".to_owned()),
        parent_id: Some(province.id),
        validity: Validity::new(None, None)?,
        successor_ids: Vec::new(),
    })
}

/// Each unit's province code as identity numbers spell it (`52`), found by walking up the tree.
fn province_codes(units: &[UnitRef]) -> HashMap<Uuid, u16> {
    let by_id: HashMap<Uuid, &UnitRef> = units.iter().map(|unit| (unit.id, unit)).collect();
    units
        .iter()
        .filter_map(|unit| {
            let mut at = unit;
            while let Some(parent) = at.parent_id.and_then(|id| by_id.get(&id)) {
                at = parent;
            }
            Some((unit.id, at.code.parse().ok()?))
        })
        .collect()
}

const POSITIONS: [(&str, u32); 4] = [
    ("Công chức Văn phòng - Thống kê", 4),
    ("Công chức Tư pháp - Hộ tịch", 3),
    ("Công chức Địa chính - Xây dựng", 2),
    ("Chuyên viên Bộ phận Một cửa", 3),
];

/// An official at `unit` who opened a portal account before the letter's deadline (21/6/2021),
/// and when the official was recorded: the day before.
fn official(
    rng: &mut SmallRng,
    numbers: &mut IdNumbers,
    unit: &UnitRef,
    province: u16,
    today: NaiveDate,
) -> (NewOfficial, DateTime<Utc>) {
    let sex = Sex::any(rng);
    let opened = Utc.with_ymd_and_hms(2021, 6, 7, 2, 0, 0).single().unwrap_or_default()
        + chrono::TimeDelta::minutes(rng.random_range(0..13 * 24 * 60));
    let official = NewOfficial {
        full_name: people::name(rng, sex),
        unit_id: unit.id,
        id_number: numbers.citizen(province, sex, rng.random_range(1965..2000), today),
        phone: people::phone(rng),
        email: None,
        position: Some((*people::pick(rng, &POSITIONS)).to_owned()),
        portal_account: if rng.random_bool(0.8) { PortalAccount::Verified } else { PortalAccount::Created },
        portal_account_at: Some(opened),
    };
    (official, opened - chrono::TimeDelta::days(1))
}

/// The grant the Service Center gave before the letter's deadline (30/6/2021), open-ended, and
/// when it was recorded: the morning of its first day.
fn grant(rng: &mut SmallRng, official_id: Uuid) -> Result<(NewGrant, DateTime<Utc>), StoreError> {
    let day = rng.random_range(25..=29);
    let from = NaiveDate::from_ymd_opt(2021, 6, day).unwrap_or(NaiveDate::MIN);
    let recorded = Utc.with_ymd_and_hms(2021, 6, day, 2, 0, 0).single().unwrap_or_default();
    let grant = NewGrant {
        official_id,
        function: GrantFunction::CreateCitizenAccount,
        basis: dvc_domain::grant::parse_basis("Quyết định 125/QĐ-TTPVHCC")?,
        period: GrantPeriod::new(from, None)?,
    };
    Ok((grant, recorded))
}

/// Applies the conversion list (only the province's rows for one province) and moves officials of
/// closed units to their successors; answers how many moved.
async fn reform(store: &Store, actor: &Actor, options: &Options) -> Result<usize, SeedError> {
    let province = options.profile.province().map(UnitCode::parse).transpose().map_err(StoreError::from)?;
    let rows = read(&options.conversion_file, |file| dvc_dvhc::read_conversion(file, province.as_ref()))?;
    let tx = store.begin().await?;
    // The records' counters are recounted once, after the last record.
    dvc_store::reorganisations::apply_leaving_counters(&tx, actor, &rows).await?;
    let moved = dvc_store::reorganisations::move_officials(&tx, store.pii(), actor).await?;
    tx.commit().await?;
    Ok(moved)
}

/// The officials at open units after the reform (those of closed districts, which have no
/// successor, record no more).
async fn desks_after_reform(store: &Store, birth_provinces: &HashMap<Uuid, u16>) -> Result<Vec<Desk>, SeedError> {
    let open: std::collections::HashSet<Uuid> = bulk::units(store.conn())
        .await?
        .into_iter()
        .filter(|unit| unit.valid_to.is_none())
        .map(|unit| unit.id)
        .collect();
    Ok(bulk::desks(store.conn())
        .await?
        .into_iter()
        .filter(|desk| open.contains(&desk.unit_id))
        .map(|desk| Desk {
            official_id: desk.official_id,
            unit_id: desk.unit_id,
            birth_province: birth_provinces.get(&desk.official_id).copied().unwrap_or(52),
        })
        .collect())
}

/// Writes records, counting them for the progress display.
struct Loader<'a> {
    store: &'a Store,
    actor: &'a Actor,
    progress: &'a dyn Progress,
    total: u64,
    written: u64,
}

impl Loader<'_> {
    /// Writes the records of `days` made at `desks`, generated and sealed on a thread of its own a
    /// few batches ahead of the writer. Hands the generators back for the next phase.
    async fn load(
        &mut self,
        desks: Vec<Desk>,
        days: Vec<(NaiveDate, u64)>,
        visits: Visits,
        rng: SmallRng,
    ) -> Result<(Visits, SmallRng), SeedError> {
        if desks.is_empty() || days.is_empty() {
            return Ok((visits, rng));
        }
        let (sender, mut batches) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
        let store = self.store.clone();
        let actor = self.actor.clone();
        let generator =
            tokio::task::spawn_blocking(move || generate(&store, &actor, &desks, &days, visits, rng, &sender));
        while let Some(batch) = batches.recv().await {
            let batch: RecordBatch = batch?;
            self.written += batch.write(self.store).await? as u64;
            self.progress.records(self.written, self.total);
        }
        generator.await.map_err(|error| SeedError::Generator(error.to_string()))
    }
}

/// Generates the days' records batch by batch and sends each, sealed, to the writer; stops early
/// when the writer has gone (it failed).
fn generate(
    store: &Store,
    actor: &Actor,
    desks: &[Desk],
    days: &[(NaiveDate, u64)],
    mut visits: Visits,
    mut rng: SmallRng,
    sender: &tokio::sync::mpsc::Sender<Result<RecordBatch, StoreError>>,
) -> (Visits, SmallRng) {
    let mut batch = Vec::with_capacity(BATCH);
    for (index, (day, count)) in days.iter().enumerate() {
        let mut moments: Vec<_> = (0..*count).map(|_| calendar::moment_on(&mut rng, *day)).collect();
        moments.sort_unstable();
        for at in moments {
            let desk = &desks[rng.random_range(0..desks.len())];
            batch.push(visits.record(&mut rng, desk, at));
        }
        let last_day = index + 1 == days.len();
        if batch.len() >= BATCH || (last_day && !batch.is_empty()) {
            let prepared = RecordBatch::prepare(store, actor, std::mem::take(&mut batch));
            if sender.blocking_send(prepared).is_err() {
                break;
            }
        }
    }
    (visits, rng)
}
